//! Reading a password from the terminal without echo, as upstream's `term.ReadPassword` on
//! stderr: echo off, canonical mode, one line; `\r` is dropped and backspace removes the last
//! byte. Used by `kes identity new --encrypt`.

use zeroize::Zeroizing;

/// Prints `prompt` on stderr, reads a line from the terminal on stderr without echo, then
/// prints a newline. Fails as upstream (`inappropriate ioctl for device`) when stderr is not a
/// terminal.
#[cfg(unix)]
pub fn read(prompt: &str) -> Result<Zeroizing<String>, String> {
    use std::io::Write as _;
    use std::os::fd::AsFd as _;

    use rustix::termios::{self, InputModes, LocalModes, OptionalActions};

    let stderr = std::io::stderr();
    eprint!("{prompt}");
    let _ = stderr.lock().flush();
    let fd = stderr.as_fd();
    let saved = termios::tcgetattr(fd).map_err(errno_text)?;
    let mut quiet = saved.clone();
    quiet.local_modes.remove(LocalModes::ECHO);
    quiet
        .local_modes
        .insert(LocalModes::ICANON | LocalModes::ISIG);
    quiet.input_modes.insert(InputModes::ICRNL);
    termios::tcsetattr(fd, OptionalActions::Now, &quiet).map_err(errno_text)?;
    let line = read_line(fd);
    let restored = termios::tcsetattr(fd, OptionalActions::Now, &saved).map_err(errno_text);
    eprintln!();
    let line = line?;
    restored?;
    let text = String::from_utf8(line.to_vec()).map_err(|_| "password is not UTF-8".to_owned())?;
    Ok(Zeroizing::new(text))
}

/// This platform has no terminal control here.
#[cfg(not(unix))]
pub fn read(_prompt: &str) -> Result<Zeroizing<String>, String> {
    Err("reading a password from the terminal is not supported on this platform".to_owned())
}

#[cfg(unix)]
fn read_line(fd: std::os::fd::BorrowedFd<'_>) -> Result<Zeroizing<Vec<u8>>, String> {
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    loop {
        match rustix::io::read(fd, &mut byte) {
            Ok(0) if line.is_empty() => return Err("EOF".to_owned()),
            Ok(0) => return Ok(line),
            Ok(_) => match byte[0] {
                b'\n' => return Ok(line),
                b'\r' => {}
                0x08 => {
                    line.pop();
                }
                b => line.push(b),
            },
            Err(rustix::io::Errno::INTR) => {}
            Err(err) => return Err(errno_text(err)),
        }
    }
}

/// Go's lower-case wording of an errno.
#[cfg(unix)]
fn errno_text(err: rustix::io::Errno) -> String {
    if err == rustix::io::Errno::NOTTY {
        return "inappropriate ioctl for device".to_owned();
    }
    let text = std::io::Error::from(err).to_string();
    let text = text
        .split(" (os error")
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => text,
    }
}
