//! The `kes` binary: hands the command line over to the library.

fn main() {
    std::process::exit(kes_server::cli::main());
}
