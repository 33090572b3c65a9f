//! Minimal binary implementing the runtime's helper modes, for tests and benchmarks
//! (the peapod binary provides the same modes).

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(mode) = args.get(1) else {
        eprintln!("usage: peapod-runtime-helper __zygote <data-dir>");
        std::process::exit(2);
    };
    if let Err(e) = peapod_runtime::helper::run(mode, &args[2..]) {
        eprintln!("{e:#}");
        std::process::exit(1);
    }
}
