//! The scheduler against a real peapod API server: binding, events, unschedulable reporting and
//! retries, taints, spreading, host ports and bursts.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{container, pod_spec, wait_for, Cluster};
use serde_json::json;

#[tokio::test]
async fn binds_a_pod_and_records_the_scheduled_event() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    c.create_pod("web", pod_spec(vec![container("web", "100m", "128Mi")]))
        .await;
    assert_eq!(c.wait_bound("web").await, "node1");

    let ev = c.wait_event("web", "Scheduled").await;
    assert_eq!(
        ev.message.as_deref(),
        Some("Successfully assigned default/web to node1")
    );
    assert_eq!(ev.type_.as_deref(), Some("Normal"));
    assert_eq!(
        ev.source.and_then(|s| s.component).as_deref(),
        Some("default-scheduler")
    );
    assert_eq!(ev.reporting_component.as_deref(), Some("default-scheduler"));
    assert_eq!(ev.involved_object.kind.as_deref(), Some("Pod"));
    assert_eq!(ev.count, Some(1));
    let pod = c.pods().get("web").await.unwrap();
    let cond = pod.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(
        cond.iter()
            .any(|c| c.type_ == "PodScheduled" && c.status == "True"),
        "{cond:?}"
    );
}

#[tokio::test]
async fn pods_of_other_schedulers_and_gated_pods_are_left_alone() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    let mut other = pod_spec(vec![container("c", "10m", "8Mi")]);
    other["schedulerName"] = json!("someone-else");
    c.create_pod("other", other).await;
    let mut gated = pod_spec(vec![container("c", "10m", "8Mi")]);
    gated["schedulingGates"] = json!([{"name": "example.com/wait"}]);
    c.create_pod("gated", gated).await;
    c.create_pod("mine", pod_spec(vec![container("c", "10m", "8Mi")]))
        .await;
    c.wait_bound("mine").await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(c.node_of("other").await, None);
    assert_eq!(c.node_of("gated").await, None);
}

#[tokio::test]
async fn node_selector_waits_until_the_node_is_labelled() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    let mut spec = pod_spec(vec![container("nginx", "100m", "64Mi")]);
    spec["nodeSelector"] = json!({"disktype": "ssd"});
    c.create_pod("nginx", spec).await;

    let (reason, message) = c.wait_unschedulable("nginx").await;
    let expected = "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector. \
                    preemption: 0/1 nodes are available: 1 Preemption is not helpful for scheduling.";
    assert_eq!(reason, "Unschedulable");
    assert_eq!(message, expected);
    let ev = c.wait_event("nginx", "FailedScheduling").await;
    assert_eq!(ev.message.as_deref(), Some(expected));
    assert_eq!(ev.type_.as_deref(), Some("Warning"));
    assert_eq!(c.node_of("nginx").await, None);

    c.label_node("node1", "disktype", "ssd").await;
    assert_eq!(c.wait_bound("nginx").await, "node1");
    let ev = c.wait_event("nginx", "Scheduled").await;
    assert_eq!(
        ev.message.as_deref(),
        Some("Successfully assigned default/nginx to node1")
    );
}

#[tokio::test]
async fn required_node_affinity_is_enforced() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    c.add_node("node2", "2", "4Gi", "110").await;
    c.label_node("node2", "zone", "b").await;
    let mut spec = pod_spec(vec![container("c", "10m", "8Mi")]);
    spec["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [{"key": "zone", "operator": "In", "values": ["b"]}]}]}}});
    for i in 0..4 {
        c.create_pod(&format!("z{i}"), spec.clone()).await;
    }
    for i in 0..4 {
        assert_eq!(c.wait_bound(&format!("z{i}")).await, "node2");
    }
}

#[tokio::test]
async fn summed_container_requests_must_fit_together() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    // Each container alone fits in 4Gi; together they need 4.5Gi.
    let spec = pod_spec(vec![
        container("a", "100m", "1536Mi"),
        container("b", "100m", "1536Mi"),
        container("c", "100m", "1536Mi"),
    ]);
    c.create_pod("big", spec).await;
    let (reason, message) = c.wait_unschedulable("big").await;
    assert_eq!(reason, "Unschedulable");
    assert_eq!(
        message,
        "0/1 nodes are available: 1 Insufficient memory. preemption: 0/1 nodes are available: \
         1 No preemption victims found for incoming pod."
    );
    c.wait_event("big", "FailedScheduling").await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(c.node_of("big").await, None);

    // A pod with just one of those containers fits.
    c.create_pod("one", pod_spec(vec![container("a", "100m", "1536Mi")]))
        .await;
    assert_eq!(c.wait_bound("one").await, "node1");
}

#[tokio::test]
async fn unschedulable_pod_is_retried_when_capacity_frees_and_events_aggregate() {
    let cfg = peapod_scheduler::SchedulerConfig {
        backoff: peapod_scheduler::Backoff {
            initial: Duration::from_millis(100),
            max: Duration::from_millis(200),
            flush: Duration::from_millis(300),
        },
        ..Default::default()
    };
    let c = Cluster::start_with(cfg).await;
    c.add_node("node1", "2", "4Gi", "110").await;
    c.create_pod("hog", pod_spec(vec![container("c", "1500m", "1Gi")]))
        .await;
    c.wait_bound("hog").await;
    c.create_pod("late", pod_spec(vec![container("c", "1", "1Gi")]))
        .await;
    let (_, message) = c.wait_unschedulable("late").await;
    assert!(
        message.starts_with("0/1 nodes are available: 1 Insufficient cpu."),
        "{message}"
    );

    // The periodic flush retries it: the same message is counted on one Event, not duplicated.
    let counted = wait_for("aggregated FailedScheduling", || async {
        let evs: Vec<_> = c
            .events_for("late")
            .await
            .into_iter()
            .filter(|e| e.reason.as_deref() == Some("FailedScheduling"))
            .collect();
        (evs.len() == 1 && evs[0].count.unwrap_or(0) >= 3).then_some(evs)
    })
    .await;
    assert!(counted[0].last_timestamp >= counted[0].first_timestamp);

    // No kubelet here: a graceful delete of a bound pod would wait for one, so delete at once.
    c.pods()
        .delete("hog", &kube::api::DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    assert_eq!(c.wait_bound("late").await, "node1");
}

#[tokio::test]
async fn taints_repel_pods_that_do_not_tolerate_them() {
    let c = Cluster::start().await;
    let taints = json!({"taints": [{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}]});
    c.add_node_with("node1", "2", "4Gi", "110", taints, "True")
        .await;
    c.create_pod("plain", pod_spec(vec![container("c", "10m", "8Mi")]))
        .await;
    let (_, message) = c.wait_unschedulable("plain").await;
    assert_eq!(
        message,
        "0/1 nodes are available: 1 node(s) had untolerated taint {dedicated: gpu}. preemption: 0/1 nodes are \
         available: 1 Preemption is not helpful for scheduling."
    );
    let mut tolerant = pod_spec(vec![container("c", "10m", "8Mi")]);
    tolerant["tolerations"] =
        json!([{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]);
    c.create_pod("tolerant", tolerant).await;
    assert_eq!(c.wait_bound("tolerant").await, "node1");
    assert_eq!(c.node_of("plain").await, None);
}

#[tokio::test]
async fn not_ready_and_cordoned_nodes_take_no_pods() {
    let c = Cluster::start().await;
    c.add_node_with("sick", "2", "4Gi", "110", json!({}), "False")
        .await;
    c.add_node_with(
        "cordoned",
        "2",
        "4Gi",
        "110",
        json!({"unschedulable": true}),
        "True",
    )
    .await;
    c.create_pod("p", pod_spec(vec![container("c", "10m", "8Mi")]))
        .await;
    let (_, message) = c.wait_unschedulable("p").await;
    assert_eq!(
        message,
        "0/2 nodes are available: 1 node(s) had untolerated taint {node.kubernetes.io/not-ready: }, \
         1 node(s) were unschedulable. preemption: 0/2 nodes are available: 2 Preemption is not helpful for scheduling."
    );
    // Uncordon: the pod lands there.
    let patch = json!({"spec": {"unschedulable": false}});
    c.nodes()
        .patch(
            "cordoned",
            &Default::default(),
            &kube::api::Patch::Merge(&patch),
        )
        .await
        .unwrap();
    assert_eq!(c.wait_bound("p").await, "cordoned");
}

#[tokio::test]
async fn least_allocated_spreads_pods_over_two_nodes() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    c.add_node("node2", "2", "4Gi", "110").await;
    for i in 0..6 {
        c.create_pod(
            &format!("s{i}"),
            pod_spec(vec![container("c", "200m", "256Mi")]),
        )
        .await;
    }
    let mut per_node: HashMap<String, usize> = HashMap::new();
    for i in 0..6 {
        *per_node
            .entry(c.wait_bound(&format!("s{i}")).await)
            .or_default() += 1;
    }
    assert_eq!(per_node.get("node1"), Some(&3), "{per_node:?}");
    assert_eq!(per_node.get("node2"), Some(&3), "{per_node:?}");
}

#[tokio::test]
async fn host_port_conflicts_keep_the_second_pod_pending() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    let with_port = |name: &str| {
        let mut ctr = container(name, "10m", "8Mi");
        ctr["ports"] = json!([{"containerPort": 80, "hostPort": 8080, "protocol": "TCP"}]);
        pod_spec(vec![ctr])
    };
    c.create_pod("first", with_port("a")).await;
    c.wait_bound("first").await;
    c.create_pod("second", with_port("b")).await;
    let (_, message) = c.wait_unschedulable("second").await;
    assert_eq!(
        message,
        "0/1 nodes are available: 1 node(s) didn't have free ports for the requested pod ports. preemption: \
         0/1 nodes are available: 1 No preemption victims found for incoming pod."
    );
    // Another protocol on the same port does not conflict.
    let mut udp = container("u", "10m", "8Mi");
    udp["ports"] = json!([{"containerPort": 80, "hostPort": 8080, "protocol": "UDP"}]);
    c.create_pod("udp", pod_spec(vec![udp])).await;
    c.wait_bound("udp").await;
}

#[tokio::test]
async fn a_burst_never_overcommits_the_pod_count() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "20").await;
    let creates = (0..50).map(|i| {
        let c = &c;
        async move {
            c.create_pod(
                &format!("b{i}"),
                pod_spec(vec![container("c", "10m", "8Mi")]),
            )
            .await
        }
    });
    futures::future::join_all(creates).await;
    let bound = wait_for("20 bound and 30 reported", || async {
        let pods = c.pods().list(&Default::default()).await.ok()?.items;
        let bound = pods
            .iter()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
            .count();
        let unschedulable = pods
            .iter()
            .filter(|p| {
                p.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| {
                        cs.iter()
                            .any(|c| c.type_ == "PodScheduled" && c.status == "False")
                    })
            })
            .count();
        (bound + unschedulable == 50 && bound >= 20).then_some(bound)
    })
    .await;
    assert_eq!(bound, 20);
    tokio::time::sleep(Duration::from_secs(1)).await;
    let pods = c.pods().list(&Default::default()).await.unwrap().items;
    let bound = pods
        .iter()
        .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some())
        .count();
    assert_eq!(bound, 20, "still exactly the node's pod capacity");
    let pending = pods
        .iter()
        .find(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none())
        .unwrap();
    let msg = c
        .wait_unschedulable(pending.metadata.name.as_deref().unwrap())
        .await
        .1;
    assert!(
        msg.starts_with("0/1 nodes are available: 1 Too many pods."),
        "{msg}"
    );
}

#[tokio::test]
async fn no_nodes_at_all() {
    let c = Cluster::start().await;
    c.create_pod("lonely", pod_spec(vec![container("c", "10m", "8Mi")]))
        .await;
    let (reason, message) = c.wait_unschedulable("lonely").await;
    assert_eq!(
        (reason.as_str(), message.as_str()),
        ("SchedulerError", "no nodes available to schedule pods")
    );
    c.add_node("node1", "2", "4Gi", "110").await;
    assert_eq!(c.wait_bound("lonely").await, "node1");
}

#[tokio::test]
async fn higher_priority_pod_preempts_a_lower_one() {
    let c = Cluster::start().await;
    c.add_node("node1", "2", "4Gi", "110").await;
    let mut low = pod_spec(vec![container("c", "1500m", "1Gi")]);
    low["priority"] = json!(0);
    c.create_pod("low", low).await;
    c.wait_bound("low").await;
    let mut high = pod_spec(vec![container("c", "1", "1Gi")]);
    high["priority"] = json!(1000);
    c.create_pod("high", high).await;
    let ev = c.wait_event("low", "Preempted").await;
    assert!(
        ev.message
            .as_deref()
            .unwrap_or_default()
            .starts_with("Preempted by pod "),
        "{ev:?}"
    );
    let victim = c.pods().get("low").await.unwrap();
    assert!(
        victim.metadata.deletion_timestamp.is_some(),
        "the victim is deleted gracefully"
    );
    let conds = victim.status.and_then(|s| s.conditions).unwrap_or_default();
    assert!(conds
        .iter()
        .any(|c| c.type_ == "DisruptionTarget"
            && c.reason.as_deref() == Some("PreemptionByScheduler")));
    // While the victim terminates, the preemptor waits nominated to its node.
    let (_, message) = c.wait_unschedulable("high").await;
    assert!(
        message.starts_with("0/1 nodes are available: 1 Insufficient cpu."),
        "{message}"
    );
    let nominated = c
        .pods()
        .get("high")
        .await
        .unwrap()
        .status
        .and_then(|s| s.nominated_node_name);
    assert_eq!(nominated.as_deref(), Some("node1"));
    assert_eq!(c.node_of("high").await, None);
    // The kubelet's part: the victim's containers stop and the pod object goes away.
    c.pods()
        .delete("low", &kube::api::DeleteParams::default().grace_period(0))
        .await
        .unwrap();
    assert_eq!(c.wait_bound("high").await, "node1");
}
