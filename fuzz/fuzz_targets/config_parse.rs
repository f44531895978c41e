//! The config file: YAML syntax, the schema walk, `${VAR}` references and every value parser.
#![no_main]

use kes_server::config::Config;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // Every `${VAR}` resolves except `${MISSING}`, so both paths are reached.
    let env = |name: &str| (name != "MISSING").then(|| format!("value-of-{name}"));
    if let Ok(config) = Config::parse(text, &env) {
        let _ = format!("{config:?}");
    }
});
