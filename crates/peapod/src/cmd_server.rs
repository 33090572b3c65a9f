//! `peapod server`: the API server, scheduler, controllers, node IPAM and (unless
//! `--disable-agent`) an embedded node agent, in one process.

use std::path::PathBuf;

use anyhow::Context;

use crate::node_flags::NodeFlags;

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
    /// Range of Service cluster IPs; its first address is the `kubernetes` Service's.
    #[arg(long, default_value = "10.43.0.0/16")]
    pub service_cidr: peapod_network::Ipv4Cidr,
    #[command(flatten)]
    pub node: NodeFlags,
    /// Revisions of watch history to keep (tests use a small value to exercise 410 Gone).
    #[arg(long, hide = true)]
    pub store_history: Option<i64>,
}

/// The address other machines reach this server at: the bind address when it is a real
/// one, else the host's primary address (as k3s advertises the node IP).
fn advertise_address(bind: std::net::IpAddr) -> std::net::IpAddr {
    if bind.is_unspecified() || bind.is_loopback() {
        crate::node_flags::primary_ip()
    } else {
        bind
    }
}

pub fn run(args: ServerArgs) -> anyhow::Result<()> {
    crate::logging::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    crate::shutdown::run(rt, async move {
        let server = peapod_apiserver::start(peapod_apiserver::ServerConfig {
            data_dir: args.data_dir.clone(),
            bind_address: args.bind_address,
            port: args.port,
            store_history: args.store_history,
            kubernetes_service_ip: args
                .service_cidr
                .nth(1)
                .context("--service-cidr has no first address")?,
            advertise_address: advertise_address(args.bind_address),
        })
        .await?;
        let client = crate::client::from_kubeconfig(&server.kubeconfig).await?;
        tokio::spawn(crate::node_ipam::run(
            client.clone(),
            args.cluster_cidr,
            args.node_cidr_mask,
        ));
        spawn_logged(
            "scheduler",
            peapod_scheduler::run(client.clone(), peapod_scheduler::SchedulerConfig::default()),
        );
        spawn_logged(
            "controllers",
            peapod_controllers::run(
                client.clone(),
                peapod_controllers::ControllerConfig::default(),
            ),
        );
        if !args.disable_agent {
            let mut cfg = args.node.agent_config(&args.data_dir, args.cluster_cidr)?;
            let ips = vec![
                crate::node_flags::primary_ip(),
                std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
            ];
            let (_client_creds, serving) = server.node_credentials(&cfg.node_name, &ips)?;
            cfg.streaming_tls = Some(peapod_streaming::ServerTls {
                ca_pem: server.ca_pem().to_string(),
                cert_pem: serving.cert_pem,
                key_pem: serving.key_pem,
                allowed_common_names: vec!["kube-apiserver-kubelet-client".into()],
            });
            spawn_logged("node agent", peapod_agent::run(client.clone(), cfg));
        }
        println!("peapod API server listening on https://{}", server.addr);
        println!("export KUBECONFIG={}", server.kubeconfig.display());
        crate::shutdown::signalled().await;
        anyhow::Ok(())
    })
}

fn spawn_logged(
    what: &'static str,
    fut: impl std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
) {
    tokio::spawn(async move {
        if let Err(e) = fut.await {
            tracing::error!(error = format!("{e:#}"), "{what} stopped");
        }
    });
}
