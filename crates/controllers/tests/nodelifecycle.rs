mod common;

use std::time::Duration;

use common::*;
use k8s_openapi::api::core::v1::{Event, Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use peapod_controllers::NodeLifecycleConfig;
use serde_json::json;

fn short_timings() -> NodeLifecycleConfig {
    NodeLifecycleConfig {
        monitor_period: Duration::from_millis(200),
        grace_period: Duration::from_secs(2),
        startup_grace_period: Duration::from_secs(2),
    }
}

async fn bound_pod(
    env: &Env,
    name: &str,
    node: &str,
    tolerations: serde_json::Value,
) -> anyhow::Result<()> {
    let api: Api<Pod> = Api::namespaced(env.client.clone(), "default");
    let mut spec = serde_json::to_value(template("bare", "busybox").spec)?;
    spec["nodeName"] = json!(node);
    spec["tolerations"] = tolerations;
    let pod: Pod = serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": name, "labels": {"app": "bare"}},
        "spec": spec,
    }))?;
    api.create(&PostParams::default(), &pod).await?;
    match mark_ready(&env.client, "default", name).await {
        // A pod with no toleration time left on a tainted node may be evicted (and gone)
        // before its status is written; the test then checks that it is gone.
        Err(e) if is_not_found(&e) => Ok(()),
        other => other,
    }
}

fn is_not_found(e: &anyhow::Error) -> bool {
    matches!(e.downcast_ref::<kube::Error>(), Some(kube::Error::Api(s)) if s.code == 404)
}

fn ready(node: &Node) -> (String, Option<String>, Option<String>) {
    let c = node
        .status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|c| c.iter().find(|c| c.type_ == "Ready"))
        .cloned()
        .unwrap_or_default();
    (c.status, c.reason, c.message)
}

fn taint_keys(node: &Node) -> Vec<(String, String)> {
    let mut keys: Vec<_> = node
        .spec
        .as_ref()
        .and_then(|s| s.taints.clone())
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.effect))
        .collect();
    keys.sort();
    keys
}

fn alive(p: &Option<Pod>) -> bool {
    p.as_ref()
        .is_some_and(|p| p.metadata.deletion_timestamp.is_none())
}

#[tokio::test]
async fn silent_node_goes_unknown_is_tainted_and_its_pods_are_evicted() -> anyhow::Result<()> {
    let env = start_with(short_timings()).await?;
    let client = env.client.clone();
    create_node(&client, "alive", &[], json!([])).await?;
    create_node(&client, "dead", &[], json!([])).await?;
    create_node(&client, "sick", &[], json!([])).await?;
    // The live agents keep heartbeating; "dead" never does again.
    let beats = tokio::spawn({
        let client = client.clone();
        async move {
            loop {
                for n in ["alive", "sick"] {
                    let _ = renew_node_lease(&client, n).await;
                }
                tokio::time::sleep(Duration::from_millis(300)).await;
            }
        }
    });
    let _stop = AbortOnDrop(beats);
    // Pods on the dead node: one tolerating unreachable for 1 s, one with the default 300 s
    // (added by admission), one tolerating it forever; and one on the live node.
    bound_pod(
        &env,
        "impatient",
        "dead",
        json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 1}]),
    )
    .await?;
    bound_pod(&env, "patient", "dead", json!([])).await?;
    bound_pod(
        &env,
        "forever",
        "dead",
        json!([{"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]),
    )
    .await?;
    bound_pod(&env, "elsewhere", "alive", json!([])).await?;
    // "sick" keeps its lease but reports NotReady.
    post_node_ready(&client, "sick", "False").await?;

    let nodes: Api<Node> = Api::all(client.clone());
    let dead = wait_for("dead node Unknown and tainted", 20, || async {
        let n = nodes.get("dead").await?;
        let keys = taint_keys(&n);
        let done = ready(&n).0 == "Unknown" && keys.len() == 2;
        Ok(done.then_some(n))
    })
    .await?;
    assert_eq!(
        ready(&dead),
        (
            "Unknown".to_string(),
            Some("NodeStatusUnknown".to_string()),
            Some("Kubelet stopped posting node status.".to_string())
        )
    );
    assert_eq!(
        taint_keys(&dead),
        [
            (
                "node.kubernetes.io/unreachable".to_string(),
                "NoExecute".to_string()
            ),
            (
                "node.kubernetes.io/unreachable".to_string(),
                "NoSchedule".to_string()
            ),
        ]
    );
    let sick = wait_for("sick node tainted not-ready", 20, || async {
        let n = nodes.get("sick").await?;
        Ok((taint_keys(&n).len() == 2).then_some(n))
    })
    .await?;
    assert!(taint_keys(&sick)
        .iter()
        .all(|(k, _)| k == "node.kubernetes.io/not-ready"));
    // A pod that lands on an already NoExecute-tainted node is judged too.
    bound_pod(
        &env,
        "late",
        "sick",
        json!([{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute", "tolerationSeconds": 0}]),
    )
    .await?;

    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    wait_for("impatient pod evicted", 20, || async {
        Ok((!alive(&pods.get_opt("impatient").await?)).then_some(()))
    })
    .await?;
    wait_for("late pod on the not-ready node evicted", 20, || async {
        Ok((!alive(&pods.get_opt("late").await?)).then_some(()))
    })
    .await?;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let patient = pods.get_opt("patient").await?;
    assert!(alive(&patient), "300 s toleration not used up yet");
    assert!(alive(&pods.get_opt("forever").await?));
    assert!(alive(&pods.get_opt("elsewhere").await?));
    let patient_ready = patient
        .and_then(|p| p.status)
        .and_then(|s| s.conditions)
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.type_ == "Ready")
        .map(|c| c.status);
    assert_eq!(
        patient_ready.as_deref(),
        Some("False"),
        "pods of a silent node are not ready"
    );
    let alive_node = nodes.get("alive").await?;
    assert_eq!(ready(&alive_node).0, "True");
    assert!(taint_keys(&alive_node).is_empty());

    // The event follows the delete that caused it.
    let events: Api<Event> = Api::namespaced(client.clone(), "default");
    wait_for(
        "a TaintManagerEviction event naming the pod",
        10,
        || async {
            let evicted = events
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .any(|e| {
                    e.reason.as_deref() == Some("TaintManagerEviction")
                        && e.involved_object.name.as_deref() == Some("impatient")
                });
            Ok(evicted.then_some(()))
        },
    )
    .await?;

    // The agent comes back: Ready again, taints gone.
    renew_node_lease(&client, "dead").await?;
    post_node_ready(&client, "dead", "True").await?;
    wait_for("dead node recovered", 20, || async {
        let n = nodes.get("dead").await?;
        Ok((ready(&n).0 == "True" && taint_keys(&n).is_empty()).then_some(()))
    })
    .await?;
    Ok(())
}

struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}
