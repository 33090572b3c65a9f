use std::os::unix::fs::PermissionsExt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use chrono::{Duration, TimeZone, Utc};
use serde_json::{json, Value};

use super::*;

fn signer() -> (tempfile::TempDir, TokenSigner) {
    let dir = tempfile::tempdir().expect("tempdir");
    let signer = TokenSigner::load_or_create(dir.path()).expect("signer");
    (dir, signer)
}

fn claims(now: chrono::DateTime<Utc>) -> TokenClaims {
    TokenClaims {
        namespace: "team-a".into(),
        service_account: ObjectRef::new("builder", "sa-uid-1"),
        audiences: vec![ISSUER.to_string()],
        issued_at: now,
        expires_at: now + Duration::seconds(3600),
        pod: Some(ObjectRef::new("web-0", "pod-uid-1")),
        secret: None,
        node: Some(ObjectRef::new("node-1", "node-uid-1")),
        warn_after: None,
    }
}

fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64")).expect("json")
}

fn accepted() -> Vec<String> {
    vec![ISSUER.to_string()]
}

#[test]
fn round_trip_returns_identity_and_binding() {
    let (_dir, signer) = signer();
    let now = Utc::now();
    let token = signer.issue(claims(now)).expect("issue");
    let verified = signer.verify(&token, &accepted()).expect("verify");
    assert_eq!(verified.namespace, "team-a");
    assert_eq!(
        verified.service_account,
        ObjectRef::new("builder", "sa-uid-1")
    );
    assert_eq!(verified.pod, Some(ObjectRef::new("web-0", "pod-uid-1")));
    assert_eq!(verified.node, Some(ObjectRef::new("node-1", "node-uid-1")));
    assert_eq!(verified.username(), "system:serviceaccount:team-a:builder");
    assert_eq!(
        verified.groups(),
        vec![
            "system:serviceaccounts",
            "system:serviceaccounts:team-a",
            "system:authenticated"
        ]
    );
    assert_eq!(verified.expires_at.timestamp(), now.timestamp() + 3600);
    let extra = verified.extra();
    assert_eq!(
        extra["authentication.kubernetes.io/pod-name"],
        vec!["web-0"]
    );
    assert_eq!(
        extra["authentication.kubernetes.io/node-uid"],
        vec!["node-uid-1"]
    );
    assert!(extra["authentication.kubernetes.io/credential-id"][0].starts_with("JTI="));
}

#[test]
fn token_layout_matches_kubernetes_bound_tokens() {
    let (_dir, signer) = signer();
    let now = Utc
        .with_ymd_and_hms(2030, 1, 2, 3, 4, 5)
        .single()
        .expect("time");
    let mut c = claims(now);
    c.warn_after = Some(now + Duration::seconds(3607));
    let token = signer.issue(c).expect("issue");
    let header: Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("b64"),
    )
    .expect("json");
    assert_eq!(header, json!({"alg": "ES256", "kid": signer.key_id()}));
    let p = payload(&token);
    assert_eq!(p["iss"], ISSUER);
    assert_eq!(p["sub"], "system:serviceaccount:team-a:builder");
    assert_eq!(p["aud"], json!([ISSUER]));
    assert_eq!(p["iat"], now.timestamp());
    assert_eq!(p["nbf"], now.timestamp());
    assert_eq!(p["exp"], now.timestamp() + 3600);
    assert_eq!(p["jti"].as_str().map(str::len), Some(36));
    assert_eq!(
        p["kubernetes.io"],
        json!({
            "namespace": "team-a",
            "node": {"name": "node-1", "uid": "node-uid-1"},
            "pod": {"name": "web-0", "uid": "pod-uid-1"},
            "serviceaccount": {"name": "builder", "uid": "sa-uid-1"},
            "warnafter": now.timestamp() + 3607,
        })
    );
    // Two tokens for the same claims differ by their jti.
    let again = signer.issue(claims(now)).expect("issue");
    assert_ne!(payload(&again)["jti"], p["jti"]);
}

#[test]
fn tampered_payload_is_rejected() {
    let (_dir, signer) = signer();
    let token = signer.issue(claims(Utc::now())).expect("issue");
    let mut p = payload(&token);
    p["kubernetes.io"]["serviceaccount"]["name"] = json!("admin");
    p["sub"] = json!("system:serviceaccount:team-a:admin");
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(p.to_string()),
        parts[2]
    );
    assert_eq!(
        signer.verify(&forged, &accepted()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn tampered_signature_is_rejected() {
    let (_dir, signer) = signer();
    let token = signer.issue(claims(Utc::now())).expect("issue");
    let (head, signature) = token.rsplit_once('.').expect("dot");
    let mut bytes = URL_SAFE_NO_PAD.decode(signature).expect("b64");
    bytes[10] ^= 0x01;
    let forged = format!("{head}.{}", URL_SAFE_NO_PAD.encode(bytes));
    assert_eq!(
        signer.verify(&forged, &accepted()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn token_from_another_key_is_rejected() {
    let (_dir, signer) = signer();
    let (_other_dir, other) = self::signer();
    let token = other.issue(claims(Utc::now())).expect("issue");
    assert_eq!(
        signer.verify(&token, &accepted()),
        Err(TokenError::UnknownKey)
    );
    // Without the kid hint the signature check still refuses it.
    let (_, rest) = token.split_once('.').expect("dot");
    let no_kid = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(r#"{"alg":"ES256"}"#));
    assert_eq!(
        signer.verify(&no_kid, &accepted()),
        Err(TokenError::BadSignature)
    );
}

#[test]
fn alg_none_is_rejected() {
    let (_dir, signer) = signer();
    let token = signer.issue(claims(Utc::now())).expect("issue");
    let (_, rest) = token.split_once('.').expect("dot");
    let none = format!("{}.{rest}", URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#));
    assert_eq!(
        signer.verify(&none, &accepted()),
        Err(TokenError::UnsupportedAlgorithm("none".into()))
    );
}

#[test]
fn expired_token_is_rejected_after_leeway() {
    let (_dir, signer) = signer();
    let issued = Utc::now() - Duration::seconds(7200);
    let token = signer.issue(claims(issued)).expect("issue");
    let expiry = issued + Duration::seconds(3600);
    assert_eq!(signer.verify(&token, &accepted()), Err(TokenError::Expired));
    // Within the one-minute clock-skew allowance it still passes.
    assert!(signer
        .verify_at(&token, &accepted(), expiry + Duration::seconds(30))
        .is_ok());
    assert_eq!(
        signer.verify_at(&token, &accepted(), expiry + Duration::seconds(61)),
        Err(TokenError::Expired)
    );
}

#[test]
fn token_from_the_future_is_rejected() {
    let (_dir, signer) = signer();
    let issued = Utc::now() + Duration::seconds(600);
    let token = signer.issue(claims(issued)).expect("issue");
    assert_eq!(
        signer.verify(&token, &accepted()),
        Err(TokenError::NotYetValid)
    );
}

#[test]
fn wrong_audience_is_rejected() {
    let (_dir, signer) = signer();
    let mut c = claims(Utc::now());
    c.audiences = vec!["vault".into(), "other".into()];
    let token = signer.issue(c).expect("issue");
    assert!(matches!(
        signer.verify(&token, &accepted()),
        Err(TokenError::WrongAudience { .. })
    ));
    // Any overlap is enough.
    assert!(signer.verify(&token, &["x".into(), "other".into()]).is_ok());
}

#[test]
fn other_issuer_is_reported_as_such() {
    let (dir, signer) = signer();
    let token = signer.issue(claims(Utc::now())).expect("issue");
    let elsewhere = TokenSigner::load_or_create(dir.path())
        .expect("same key")
        .with_issuer("https://issuer.example");
    assert_eq!(
        elsewhere.verify(&token, &accepted()),
        Err(TokenError::WrongIssuer(ISSUER.to_string()))
    );
}

#[test]
fn malformed_tokens_are_errors_not_panics() {
    let (_dir, signer) = signer();
    for bad in [
        "",
        "a",
        "a.b",
        "a.b.c.d",
        "!!.??.**",
        "e30.e30.e30",
        "eyJhbGciOiJFUzI1NiJ9.%%%.AAAA",
    ] {
        let result = signer.verify(bad, &accepted());
        assert!(result.is_err(), "{bad:?} was accepted");
    }
}

#[test]
fn key_is_persisted_and_reused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let keys = dir.path().join("tls");
    let first = TokenSigner::load_or_create(&keys).expect("create");
    let mode = std::fs::metadata(keys.join(KEY_FILE))
        .expect("key file")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let token = first.issue(claims(Utc::now())).expect("issue");
    drop(first);
    let second = TokenSigner::load_or_create(&keys).expect("load");
    assert!(
        second.verify(&token, &accepted()).is_ok(),
        "restart must keep the key"
    );
    assert_eq!(
        std::fs::read_to_string(keys.join(PUBLIC_KEY_FILE)).expect("pub"),
        second.public_key_pem()
    );
}

#[test]
fn unusable_key_file_is_an_error_and_left_alone() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join(KEY_FILE);
    let bogus = "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n";
    std::fs::write(&path, bogus).expect("write");
    let error = TokenSigner::load_or_create(dir.path())
        .err()
        .expect("must fail");
    assert!(
        format!("{error:#}").contains("RSA PRIVATE KEY"),
        "{error:#}"
    );
    assert_eq!(std::fs::read_to_string(&path).expect("read"), bogus);
}

#[test]
fn public_key_pem_and_jwks_describe_the_key() {
    let (_dir, signer) = signer();
    let pem = signer.public_key_pem();
    assert!(pem.starts_with("-----BEGIN PUBLIC KEY-----\n"));
    assert!(pem.ends_with("-----END PUBLIC KEY-----\n"));
    let der = super::keys::decode_pem(&pem, "PUBLIC KEY").expect("pem");
    assert_eq!(der.len(), 91, "P-256 SubjectPublicKeyInfo");
    let jwks = signer.jwks();
    let key = &jwks["keys"][0];
    assert_eq!(key["kty"], "EC");
    assert_eq!(key["crv"], "P-256");
    assert_eq!(key["kid"], signer.key_id());
    let x = URL_SAFE_NO_PAD
        .decode(key["x"].as_str().expect("x"))
        .expect("b64");
    let y = URL_SAFE_NO_PAD
        .decode(key["y"].as_str().expect("y"))
        .expect("b64");
    assert_eq!([&[4u8][..], &x, &y].concat(), der[26..].to_vec());
    assert_eq!(
        signer.openid_configuration()["jwks_uri"],
        format!("{ISSUER}/openid/v1/jwks")
    );
}

fn resign(signer: &TokenSigner, token: &str, edit: impl FnOnce(&mut Value)) -> String {
    let mut p = payload(token);
    edit(&mut p);
    let header = json!({"alg": "ES256", "kid": signer.key_id()});
    signer
        .sign(&header, p.to_string().as_bytes())
        .expect("sign")
}

#[test]
fn single_string_audience_is_accepted() {
    let (_dir, signer) = signer();
    let token = signer.issue(claims(Utc::now())).expect("issue");
    let single = resign(&signer, &token, |p| p["aud"] = json!(ISSUER));
    let verified = signer.verify(&single, &accepted()).expect("verify");
    assert_eq!(verified.audiences, vec![ISSUER.to_string()]);
}

#[test]
fn subject_must_agree_with_the_kubernetes_claim() {
    let (_dir, signer) = signer();
    let token = signer.issue(claims(Utc::now())).expect("issue");
    let forged = resign(&signer, &token, |p| {
        p["sub"] = json!("system:serviceaccount:kube-system:admin")
    });
    assert!(matches!(
        signer.verify(&forged, &accepted()),
        Err(TokenError::Malformed(_))
    ));
    let missing = resign(&signer, &token, |p| {
        p.as_object_mut().map(|o| o.remove("kubernetes.io"));
    });
    assert!(matches!(
        signer.verify(&missing, &accepted()),
        Err(TokenError::Malformed(_))
    ));
}
