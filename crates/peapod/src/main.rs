//! The `peapod` binary: one program for the server, the node agent, the image tool and
//! the small helper processes (pause, per-pod supervisor) the runtime execs.

mod client;
mod cmd_agent;
mod cmd_image;
mod cmd_internal;
mod cmd_reset;
mod cmd_server;
mod insecure;
mod logging;
mod node_flags;
mod node_ipam;
mod shutdown;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "peapod", version, about = "A Kubernetes-compatible pod engine")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the API server (with its embedded node agent).
    Server(cmd_server::ServerArgs),
    /// Join another machine's server as a node.
    Agent(cmd_agent::AgentArgs),
    /// Manage the node's image store.
    Image(cmd_image::ImageArgs),
    /// Remove every pod sandbox and the pod network this node made.
    Reset(cmd_reset::ResetArgs),
}

fn main() -> anyhow::Result<()> {
    // Helper modes (pause, supervisor...) are dispatched before clap and before any
    // thread exists: they must stay single-threaded and tiny.
    let args: Vec<String> = std::env::args().collect();
    if let Some(mode) = args.get(1).filter(|a| a.starts_with("__")) {
        return cmd_internal::run(mode, &args[2..]);
    }
    let cli = Cli::parse();
    match cli.command {
        Command::Server(a) => cmd_server::run(a),
        Command::Agent(a) => cmd_agent::run(a),
        Command::Image(a) => cmd_image::run(a),
        Command::Reset(a) => cmd_reset::run(a),
    }
}
