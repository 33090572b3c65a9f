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

fn account() -> Value {
    json!({"metadata": {"name": "builder", "namespace": "team-a", "uid": "sa-uid"}})
}

fn pod() -> Value {
    json!({"metadata": {"name": "web", "namespace": "team-a", "uid": "pod-uid"},
           "spec": {"serviceAccountName": "builder", "nodeName": "node-1"}})
}

fn node() -> Value {
    json!({"metadata": {"name": "node-1", "uid": "node-uid"}})
}

fn now() -> chrono::DateTime<Utc> {
    Utc.with_ymd_and_hms(2030, 5, 6, 7, 8, 9)
        .single()
        .expect("time")
}

fn request(spec: Value) -> Value {
    json!({"kind": "TokenRequest", "apiVersion": "authentication.k8s.io/v1",
           "metadata": {"creationTimestamp": null}, "spec": spec})
}

fn claims_of(response: &Value) -> Value {
    let token = response["status"]["token"].as_str().expect("token");
    let part = token.split('.').nth(1).expect("payload");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("b64")).expect("json")
}

#[test]
fn kubectl_create_token_defaults() {
    let (_dir, signer) = signer();
    let options = TokenRequestOptions::for_signer(&signer);
    let response = token_request_response(
        &signer,
        &request(json!({"audiences": null, "expirationSeconds": null, "boundObjectRef": null})),
        &account(),
        &BoundObjects::default(),
        &options,
        now(),
    )
    .expect("token");
    assert_eq!(response["kind"], "TokenRequest");
    assert_eq!(response["apiVersion"], "authentication.k8s.io/v1");
    assert_eq!(response["metadata"]["name"], "builder");
    assert_eq!(response["metadata"]["namespace"], "team-a");
    assert_eq!(
        response["metadata"]["creationTimestamp"],
        "2030-05-06T07:08:09Z"
    );
    assert_eq!(
        response["spec"],
        json!({"audiences": [ISSUER], "expirationSeconds": 3600, "boundObjectRef": null})
    );
    assert_eq!(
        response["status"]["expirationTimestamp"],
        "2030-05-06T08:08:09Z"
    );
    let verified = signer
        .verify_at(
            response["status"]["token"].as_str().expect("token"),
            &signer.api_audiences(),
            now(),
        )
        .expect("verifies");
    assert_eq!(verified.username(), "system:serviceaccount:team-a:builder");
    assert_eq!(verified.service_account.uid, "sa-uid");
    assert_eq!(verified.pod, None);
}

#[test]
fn audiences_and_expiration_are_honoured() {
    let (_dir, signer) = signer();
    let response = token_request_response(
        &signer,
        &request(json!({"audiences": ["vault"], "expirationSeconds": 7200})),
        &account(),
        &BoundObjects::default(),
        &TokenRequestOptions::for_signer(&signer),
        now(),
    )
    .expect("token");
    let claims = claims_of(&response);
    assert_eq!(claims["aud"], json!(["vault"]));
    assert_eq!(claims["exp"], now().timestamp() + 7200);
}

#[test]
fn expiration_bounds_are_validated() {
    assert_eq!(
        parse_token_request(&request(json!({"expirationSeconds": 599}))).map(|_| ()),
        Err(TokenRequestError::Invalid {
            field: "spec.expirationSeconds".into(),
            message: "Invalid value: 599: may not specify a duration less than 10 minutes".into(),
        })
    );
    let too_long = parse_token_request(&request(json!({"expirationSeconds": (1i64 << 32) + 1})));
    assert_eq!(too_long.map_err(|e| e.status_code()), Err(422));
    assert_eq!(
        parse_token_request(&request(json!({"expirationSeconds": 600})))
            .map(|s| s.expiration_seconds),
        Ok(600)
    );
    assert!(parse_token_request(&request(json!({"expirationSeconds": "soon"}))).is_err());
}

#[test]
fn max_expiration_caps_requests() {
    let (_dir, signer) = signer();
    let mut options = TokenRequestOptions::for_signer(&signer);
    options.max_expiration_seconds = Some(1800);
    let response = token_request_response(
        &signer,
        &request(json!({"expirationSeconds": 86400})),
        &account(),
        &BoundObjects::default(),
        &options,
        now(),
    )
    .expect("token");
    assert_eq!(response["spec"]["expirationSeconds"], 1800);
    assert_eq!(claims_of(&response)["exp"], now().timestamp() + 1800);
}

#[test]
fn pod_bound_token_records_pod_and_node() {
    let (_dir, signer) = signer();
    let (p, n) = (pod(), node());
    let bound = BoundObjects {
        pod: Some(&p),
        node: Some(&n),
        ..Default::default()
    };
    let response = token_request_response(
        &signer,
        &request(json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": "pod-uid"}})),
        &account(),
        &bound,
        &TokenRequestOptions::for_signer(&signer),
        now(),
    )
    .expect("token");
    let claims = claims_of(&response);
    assert_eq!(
        claims["kubernetes.io"]["pod"],
        json!({"name": "web", "uid": "pod-uid"})
    );
    assert_eq!(
        claims["kubernetes.io"]["node"],
        json!({"name": "node-1", "uid": "node-uid"})
    );
    assert_eq!(response["spec"]["boundObjectRef"]["name"], "web");
}

#[test]
fn kubelet_token_is_extended_with_warnafter() {
    let (_dir, signer) = signer();
    let p = pod();
    let bound = BoundObjects {
        pod: Some(&p),
        ..Default::default()
    };
    let response = token_request_response(
        &signer,
        &request(json!({"expirationSeconds": 3607,
            "boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web"}})),
        &account(),
        &bound,
        &TokenRequestOptions::for_signer(&signer),
        now(),
    )
    .expect("token");
    let claims = claims_of(&response);
    assert_eq!(
        claims["exp"],
        now().timestamp() + EXTENDED_EXPIRATION_SECONDS
    );
    assert_eq!(
        claims["kubernetes.io"]["warnafter"],
        now().timestamp() + 3607
    );
    assert_eq!(
        response["status"]["expirationTimestamp"],
        (now() + Duration::seconds(3607)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    );
}

#[test]
fn binding_errors() {
    let (_dir, signer) = signer();
    let options = TokenRequestOptions::for_signer(&signer);
    let p = pod();
    let bind = |reference: Value, bound: BoundObjects<'_>| {
        token_request_response(
            &signer,
            &request(json!({"boundObjectRef": reference})),
            &account(),
            &bound,
            &options,
            now(),
        )
        .map(|_| ())
    };
    let with_pod = BoundObjects {
        pod: Some(&p),
        ..Default::default()
    };
    assert_eq!(
        bind(
            json!({"kind": "ConfigMap", "apiVersion": "v1", "name": "x"}),
            with_pod
        )
        .map_err(|e| e.status_code()),
        Err(400)
    );
    assert_eq!(
        bind(
            json!({"kind": "Pod", "apiVersion": "v1", "name": "web"}),
            BoundObjects::default()
        ),
        Err(TokenRequestError::NotFound {
            resource: "pods".into(),
            name: "web".into()
        })
    );
    assert_eq!(
        bind(
            json!({"kind": "Pod", "apiVersion": "v1", "name": "web", "uid": "old"}),
            with_pod
        )
        .map_err(|e| e.status_code()),
        Err(409)
    );
    let mut other = pod();
    other["spec"]["serviceAccountName"] = json!("default");
    let with_other = BoundObjects {
        pod: Some(&other),
        ..Default::default()
    };
    let error = bind(
        json!({"kind": "Pod", "apiVersion": "v1", "name": "web"}),
        with_other,
    )
    .expect_err("mismatch");
    assert!(
        error.to_string().contains("different serviceaccount"),
        "{error}"
    );
}

#[test]
fn bound_objects_validation_tracks_deletion() {
    let (_dir, signer) = signer();
    let (p, sa) = (pod(), account());
    let bound = BoundObjects {
        pod: Some(&p),
        ..Default::default()
    };
    let response = token_request_response(
        &signer,
        &request(json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1", "name": "web"}})),
        &sa,
        &bound,
        &TokenRequestOptions::for_signer(&signer),
        now(),
    )
    .expect("token");
    let token = signer
        .verify_at(
            response["status"]["token"].as_str().expect("token"),
            &[],
            now(),
        )
        .expect("verify");
    let live = BoundObjects {
        service_account: Some(&sa),
        pod: Some(&p),
        ..Default::default()
    };
    assert_eq!(live.validate(&token, now()), Ok(()));
    // Pod deleted.
    let gone = BoundObjects {
        service_account: Some(&sa),
        ..Default::default()
    };
    assert!(matches!(
        gone.validate(&token, now()),
        Err(TokenError::Invalidated(_))
    ));
    // ServiceAccount deleted.
    let no_sa = BoundObjects {
        pod: Some(&p),
        ..Default::default()
    };
    assert!(no_sa.validate(&token, now()).is_err());
    // Pod recreated under the same name.
    let mut recreated = pod();
    recreated["metadata"]["uid"] = json!("new-uid");
    let swapped = BoundObjects {
        service_account: Some(&sa),
        pod: Some(&recreated),
        ..Default::default()
    };
    assert!(swapped.validate(&token, now()).is_err());
    // Pod terminating: valid for a minute of grace, then not.
    let mut deleting = pod();
    deleting["metadata"]["deletionTimestamp"] = json!("2030-05-06T07:08:09Z");
    let terminating = BoundObjects {
        service_account: Some(&sa),
        pod: Some(&deleting),
        ..Default::default()
    };
    assert_eq!(
        terminating.validate(&token, now() + Duration::seconds(30)),
        Ok(())
    );
    assert!(terminating
        .validate(&token, now() + Duration::seconds(61))
        .is_err());
}

#[test]
fn secret_and_node_bound_tokens() {
    let (_dir, signer) = signer();
    let options = TokenRequestOptions::for_signer(&signer);
    let (sa, n) = (account(), node());
    let secret = json!({"metadata": {"name": "creds", "namespace": "team-a", "uid": "secret-uid"}});
    let issue = |reference: Value, bound: BoundObjects<'_>| {
        let response = token_request_response(
            &signer,
            &request(json!({"boundObjectRef": reference})),
            &sa,
            &bound,
            &options,
            now(),
        )
        .expect("token");
        let token = response["status"]["token"]
            .as_str()
            .expect("token")
            .to_string();
        signer.verify_at(&token, &[], now()).expect("verify")
    };
    let secret_token = issue(
        json!({"kind": "Secret", "apiVersion": "v1", "name": "creds"}),
        BoundObjects {
            secret: Some(&secret),
            ..Default::default()
        },
    );
    assert_eq!(
        secret_token.secret,
        Some(ObjectRef::new("creds", "secret-uid"))
    );
    let live = BoundObjects {
        service_account: Some(&sa),
        secret: Some(&secret),
        ..Default::default()
    };
    assert_eq!(live.validate(&secret_token, now()), Ok(()));
    let gone = BoundObjects {
        service_account: Some(&sa),
        ..Default::default()
    };
    assert!(gone.validate(&secret_token, now()).is_err());

    let node_token = issue(
        json!({"kind": "Node", "apiVersion": "v1", "name": "node-1"}),
        BoundObjects {
            node: Some(&n),
            ..Default::default()
        },
    );
    assert_eq!(node_token.node, Some(ObjectRef::new("node-1", "node-uid")));
    assert_eq!(node_token.pod, None);
    let with_node = BoundObjects {
        service_account: Some(&sa),
        node: Some(&n),
        ..Default::default()
    };
    assert_eq!(with_node.validate(&node_token, now()), Ok(()));
    assert!(gone.validate(&node_token, now()).is_err(), "node deleted");
}

#[test]
fn error_statuses_and_messages() {
    let not_found = TokenRequestError::NotFound {
        resource: "pods".into(),
        name: "web".into(),
    };
    assert_eq!(not_found.status_code(), 404);
    assert_eq!(not_found.to_string(), "pods \"web\" not found");
    let invalid = TokenRequestError::Invalid {
        field: "spec.x".into(),
        message: "bad".into(),
    };
    assert_eq!(invalid.to_string(), "spec.x: bad");
    assert!(parse_token_request(&request(json!({"audiences": "one"}))).is_err());
    assert!(parse_token_request(&request(
        json!({"boundObjectRef": {"kind": "Pod", "apiVersion": "v1"}})
    ))
    .is_err());
}
