//! Every line the runner prints goes through [`outln!`](crate::outln) and
//! [`errln!`](crate::errln), never `println!`: the standard macros panic
//! when the reader has gone (`runner schema data | head` closes the pipe
//! after ten lines). A closed pipe is the reader's choice, not the
//! runner's failure, so what is left to say goes nowhere and the command
//! goes on to its end: a run still writes its data and its report, and
//! the exit code is still the command's.

use std::{
    fmt,
    io::{self, Write},
    sync::atomic::{AtomicBool, Ordering},
};

/// `println!`, which a closed stdout does not turn into a panic.
#[macro_export]
macro_rules! outln {
    () => { $crate::print::out(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::print::out(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `print!`, which a closed stdout does not turn into a panic.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::print::out(format_args!($($arg)*)) };
}

/// `eprintln!`, which a closed stderr does not turn into a panic.
#[macro_export]
macro_rules! errln {
    () => { $crate::print::err(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::print::err(format_args!("{}\n", format_args!($($arg)*))) };
}

/// `eprint!`, which a closed stderr does not turn into a panic.
#[macro_export]
macro_rules! err {
    ($($arg:tt)*) => { $crate::print::err(format_args!($($arg)*)) };
}

/// Writes to stdout. A closed pipe is quiet; any other failure (a full
/// disk under `> file`) is said once on stderr, since what it would have
/// carried is lost.
pub fn out(text: fmt::Arguments<'_>) {
    static SAID: AtomicBool = AtomicBool::new(false);
    let mut stdout = io::stdout().lock();
    let written = stdout.write_fmt(text).and_then(|()| stdout.flush());
    if let Err(error) = written
        && error.kind() != io::ErrorKind::BrokenPipe
        && !SAID.swap(true, Ordering::Relaxed)
    {
        err(format_args!(
            "error: cannot write to stdout ({error}); what the runner had left to print \
             is lost\n"
        ));
    }
}

/// Writes to stderr; a failure there has nowhere left to be said.
pub fn err(text: fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(text);
}
