//! The `exportgate` command-line interface.

fn main() {}
