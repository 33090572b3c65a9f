//! `peapod agent --server URL --token-file F`: joins this machine to a peapod server as a node.
//!
//! The token (`DATA/node-token` on the server) is `PP10<sha256 of the CA PEM>::<secret>`. The
//! agent fetches the CA unauthenticated, checks its hash, then asks for node credentials over
//! TLS verified with that CA, writes `DATA/agent.kubeconfig` and runs the node agent.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::{bail, Context};

use crate::node_flags::NodeFlags;

#[derive(clap::Args)]
pub struct AgentArgs {
    /// URL of the API server, e.g. https://10.0.0.1:6443.
    #[arg(long)]
    pub server: String,
    /// File holding the server's node token.
    #[arg(long)]
    pub token_file: PathBuf,
    #[arg(long, default_value = "/var/lib/peapod")]
    pub data_dir: PathBuf,
    /// The cluster's pod range (the node's own CIDR comes from the server).
    #[arg(long, default_value = "10.42.0.0/16")]
    pub cluster_cidr: peapod_network::Ipv4Cidr,
    #[command(flatten)]
    pub node: NodeFlags,
}

pub fn run(args: AgentArgs) -> anyhow::Result<()> {
    crate::logging::init();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    crate::shutdown::run(rt, async move {
        let token = std::fs::read_to_string(&args.token_file)
            .with_context(|| format!("read {}", args.token_file.display()))?;
        let (hash, secret) = token
            .trim()
            .strip_prefix("PP10")
            .and_then(|t| t.split_once("::"))
            .context("the token file does not hold a peapod node token")?;
        std::fs::create_dir_all(&args.data_dir)?;
        let ca = fetch(&args.server, "/peapod/v1/cacerts", None, None).await?;
        if sha256_hex(ca.as_bytes()) != hash {
            bail!(
                "the server's CA does not match the token: refusing to join {}",
                args.server
            );
        }
        let node_name = args.node.node_name();
        let ip = crate::node_flags::primary_ip();
        let body =
            serde_json::json!({"nodeName": node_name, "addresses": [ip.to_string(), "127.0.0.1"]})
                .to_string();
        let creds: serde_json::Value = serde_json::from_str(
            &fetch(
                &args.server,
                "/peapod/v1/node-credentials",
                Some(&ca),
                Some((secret, &body)),
            )
            .await?,
        )?;
        let field = |k: &str| {
            creds
                .get(k)
                .and_then(|v| v.as_str())
                .map(String::from)
                .context("incomplete credentials")
        };
        let kubeconfig = args.data_dir.join("agent.kubeconfig");
        let pair = peapod_apiserver::pki::CertPair {
            cert_pem: field("clientCert")?,
            key_pem: field("clientKey")?,
        };
        peapod_apiserver::pki::write_private(
            &kubeconfig,
            &peapod_apiserver::pki::kubeconfig(
                &args.server,
                &ca,
                &format!("system:node:{node_name}"),
                &pair,
            ),
        )?;
        let client = crate::client::from_kubeconfig(&kubeconfig).await?;
        let mut cfg = args.node.agent_config(&args.data_dir, args.cluster_cidr)?;
        cfg.streaming_tls = Some(peapod_streaming::ServerTls {
            ca_pem: ca.clone(),
            cert_pem: field("servingCert")?,
            key_pem: field("servingKey")?,
            allowed_common_names: vec!["kube-apiserver-kubelet-client".into()],
        });
        println!("joined {} as node {node_name}", args.server);
        tokio::select! {
            r = peapod_agent::run(client, cfg) => r,
            _ = crate::shutdown::signalled() => Ok(()),
        }
    })
}

fn sha256_hex(data: &[u8]) -> String {
    peapod_apiserver::join_hash(data)
}

/// One HTTPS request: GET, or POST with a bearer token and JSON body. Without `ca`, the server
/// certificate is not verified (only for fetching the CA, which is then checked by hash).
async fn fetch(
    server: &str,
    path: &str,
    ca: Option<&str>,
    post: Option<(&str, &str)>,
) -> anyhow::Result<String> {
    use http_body_util::BodyExt;
    use hyper_util::rt::TokioIo;
    let url: url::Url = server.parse().context("--server must be a URL")?;
    let host = url.host_str().context("--server has no host")?.to_string();
    let port = url.port().unwrap_or(6443);
    let tcp = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .with_context(|| format!("connect {host}:{port}"))?;
    let tls = crate::insecure::client_config(ca)?;
    let name = rustls::pki_types::ServerName::try_from(host.clone())?;
    let stream = tokio_rustls::TlsConnector::from(Arc::new(tls))
        .connect(name, tcp)
        .await?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(conn);
    let mut req = hyper::Request::builder()
        .uri(path)
        .header("host", format!("{host}:{port}"));
    let body = match post {
        Some((secret, body)) => {
            req = req
                .method("POST")
                .header("authorization", format!("Bearer {secret}"))
                .header("content-type", "application/json");
            body.to_string()
        }
        None => String::new(),
    };
    let resp = sender
        .send_request(req.body(http_body_util::Full::new(bytes::Bytes::from(body)))?)
        .await?;
    let status = resp.status();
    let text = String::from_utf8_lossy(&resp.into_body().collect().await?.to_bytes()).into_owned();
    if !status.is_success() {
        bail!("{path}: {status}: {text}");
    }
    Ok(text)
}
