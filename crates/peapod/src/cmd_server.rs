//! `peapod server`: the API server (and, later, the embedded node agent).

use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ServerArgs {
    /// Where the node keeps everything it owns.
    #[arg(long, default_value = "/var/lib/peapod")]
    pub data_dir: PathBuf,
    /// HTTPS port of the API server.
    #[arg(long, default_value_t = 6443)]
    pub port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    pub bind_address: std::net::IpAddr,
    /// Do not run the embedded node agent.
    #[arg(long)]
    pub disable_agent: bool,
    /// Range from which each node gets its pod CIDR.
    #[arg(long, default_value = "10.42.0.0/16")]
    pub cluster_cidr: peapod_network::Ipv4Cidr,
    /// Size of each node's pod CIDR.
    #[arg(long, default_value_t = 24)]
    pub node_cidr_mask: u8,
    /// Revisions of watch history to keep (tests use a small value to exercise 410 Gone).
    #[arg(long, hide = true)]
    pub store_history: Option<i64>,
}

pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    crate::logging::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let server = peapod_apiserver::start(peapod_apiserver::ServerConfig {
            data_dir: args.data_dir,
            bind_address: args.bind_address,
            port: args.port,
            store_history: args.store_history,
        })
        .await?;
        let client = crate::client::from_kubeconfig(&server.kubeconfig).await?;
        tokio::spawn(crate::node_ipam::run(
            client.clone(),
            args.cluster_cidr,
            args.node_cidr_mask,
        ));
        println!("peapod API server listening on https://{}", server.addr);
        println!("export KUBECONFIG={}", server.kubeconfig.display());
        wait_for_shutdown().await;
        anyhow::Ok(())
    })
}

async fn wait_for_shutdown() {
    use tokio::signal::unix::{signal, SignalKind};
    let Ok(mut term) = signal(SignalKind::terminate()) else {
        let _ = tokio::signal::ctrl_c().await;
        return;
    };
    tokio::select! {
        _ = term.recv() => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    tracing::info!("shutting down");
}
