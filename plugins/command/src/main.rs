//! A WASI command, not a doer: `hio` must refuse it, naming what is missing.

fn main() {
    println!("I am a command, not a doer");
}
