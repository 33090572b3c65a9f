//! The cluster CA and the certificates it issues. The CA and the admin credentials are made
//! on first start and kept in `DATA/tls`; the serving certificate is reissued at each start
//! so that its addresses always match the current bind address.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};

pub struct Pki {
    dir: PathBuf,
    ca_cert_pem: String,
    ca_key: KeyPair,
}

/// A certificate and its private key, PEM encoded.
pub struct CertPair {
    pub cert_pem: String,
    pub key_pem: String,
}

impl Pki {
    pub fn load_or_create(dir: &Path) -> Result<Pki> {
        fs::create_dir_all(dir)?;
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
        let (crt, key) = (dir.join("ca.crt"), dir.join("ca.key"));
        if !crt.exists() || !key.exists() {
            let key_pair = KeyPair::generate()?;
            let mut params = CertificateParams::new(Vec::<String>::new())?;
            params.distinguished_name = dn("peapod-ca", &[]);
            params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
            params.key_usages = vec![
                KeyUsagePurpose::KeyCertSign,
                KeyUsagePurpose::CrlSign,
                KeyUsagePurpose::DigitalSignature,
            ];
            params.not_after = rcgen::date_time_ymd(2036, 1, 1);
            let cert = params.self_signed(&key_pair)?;
            write_private(&key, &key_pair.serialize_pem())?;
            write_private(&crt, &cert.pem())?;
        }
        let ca_cert_pem = fs::read_to_string(&crt)?;
        let ca_key = KeyPair::from_pem(&fs::read_to_string(&key)?).context("parse CA key")?;
        Ok(Pki {
            dir: dir.to_path_buf(),
            ca_cert_pem,
            ca_key,
        })
    }

    pub fn ca_cert_pem(&self) -> &str {
        &self.ca_cert_pem
    }

    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join("ca.crt")
    }

    fn issuer(&self) -> Result<Issuer<'static, &KeyPair>> {
        Ok(Issuer::from_ca_cert_pem(&self.ca_cert_pem, &self.ca_key)?)
    }

    /// A serving certificate for the given names and addresses.
    pub fn issue_server(&self, dns: &[String], ips: &[IpAddr]) -> Result<CertPair> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = dn("peapod-apiserver", &[]);
        params.subject_alt_names = dns
            .iter()
            .filter_map(|d| d.clone().try_into().ok().map(SanType::DnsName))
            .chain(ips.iter().map(|ip| SanType::IpAddress(*ip)))
            .collect();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.not_after = rcgen::date_time_ymd(2036, 1, 1);
        let cert = params.signed_by(&key, &self.issuer()?)?;
        Ok(CertPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A client certificate: Kubernetes reads the user from CN and groups from O.
    pub fn issue_client(&self, user: &str, groups: &[&str]) -> Result<CertPair> {
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        params.distinguished_name = dn(user, groups);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.not_after = rcgen::date_time_ymd(2036, 1, 1);
        let cert = params.signed_by(&key, &self.issuer()?)?;
        Ok(CertPair {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// The admin credentials, made once and reused across restarts.
    pub fn admin(&self) -> Result<CertPair> {
        let (crt, key) = (self.dir.join("admin.crt"), self.dir.join("admin.key"));
        if !crt.exists() || !key.exists() {
            let pair = self.issue_client("admin", &["system:masters"])?;
            write_private(&key, &pair.key_pem)?;
            write_private(&crt, &pair.cert_pem)?;
        }
        Ok(CertPair {
            cert_pem: fs::read_to_string(crt)?,
            key_pem: fs::read_to_string(key)?,
        })
    }
}

fn dn(common_name: &str, orgs: &[&str]) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    for o in orgs {
        dn.push(DnType::OrganizationName, *o);
    }
    dn.push(DnType::CommonName, common_name);
    dn
}

/// Writes a file readable by its owner only, atomically.
pub fn write_private(path: &Path, contents: &str) -> Result<()> {
    let tmp = path.with_extension("tmp");
    let mut f = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)
        .with_context(|| format!("write {}", tmp.display()))?;
    f.write_all(contents.as_bytes())?;
    f.sync_all()?;
    fs::rename(&tmp, path)?;
    Ok(())
}

/// A kubeconfig for `server` authenticating with a client certificate.
pub fn kubeconfig(server: &str, ca_pem: &str, user: &str, creds: &CertPair) -> String {
    use base64::Engine;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    format!(
        "apiVersion: v1
kind: Config
clusters:
- name: peapod
  cluster:
    server: {server}
    certificate-authority-data: {ca}
contexts:
- name: peapod
  context:
    cluster: peapod
    user: {user}
    namespace: default
current-context: peapod
users:
- name: {user}
  user:
    client-certificate-data: {cert}
    client-key-data: {key}
",
        ca = b64(ca_pem),
        cert = b64(&creds.cert_pem),
        key = b64(&creds.key_pem),
    )
}
