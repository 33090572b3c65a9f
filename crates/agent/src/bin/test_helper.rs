//! The runtime's helper modes (`__zygote <data-dir>`) for the agent's integration tests; the
//! peapod binary dispatches the same modes in production.

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let Some(mode) = args.get(1) else {
        eprintln!("usage: peapod-agent-test-helper __zygote <data-dir>");
        std::process::exit(2);
    };
    if let Err(e) = peapod_runtime::helper::run(mode, &args[2..]) {
        eprintln!("{e:#}");
        std::process::exit(1);
    }
}
