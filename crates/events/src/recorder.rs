//! Writing events through the API, aggregated by [`Aggregation`].

use std::sync::{Mutex, MutexGuard};

use k8s_openapi::api::core::v1::Event;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;
use kube::api::{Patch, PatchParams, PostParams};
use kube::{Api, Client};

use crate::aggregation::{Aggregation, EventKey};
use crate::event::{new_event, Occurrence, Source};

pub struct Recorder {
    client: Client,
    source: Source,
    aggregation: Mutex<Aggregation>,
}

impl Recorder {
    pub fn new(client: Client, source: Source) -> Self {
        Recorder {
            client,
            source,
            aggregation: Mutex::new(Aggregation::default()),
        }
    }

    /// Records `what`: bumps the Event of an earlier identical occurrence, or creates one (also
    /// when that Event has expired or been deleted). Failures are logged.
    pub async fn record(&self, what: Occurrence) {
        if let Err(e) = self.try_record(&what).await {
            tracing::warn!(
                reason = %what.reason,
                object = what.about.name.as_deref().unwrap_or_default(),
                "recording event failed: {e}"
            );
        }
    }

    async fn try_record(&self, what: &Occurrence) -> kube::Result<()> {
        let key = EventKey::of(what);
        let api: Api<Event> = Api::namespaced(self.client.clone(), &what.namespace());
        let now = Timestamp::now();
        let repeat = self.lock().repeat_of(&key);
        if let Some(repeat) = repeat {
            let patch = serde_json::json!({"count": repeat.count, "lastTimestamp": Time(now)});
            match api
                .patch(&repeat.name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    self.lock().written(key, repeat.name, repeat.count);
                    return Ok(());
                }
                Err(kube::Error::Api(s)) if s.code == 404 => {}
                Err(e) => return Err(e),
            }
        }
        let event = new_event(&self.source, what, now);
        let name = event.metadata.name.clone().unwrap_or_default();
        api.create(&PostParams::default(), &event).await?;
        self.lock().written(key, name, 1);
        Ok(())
    }

    /// Drops the aggregation state of an object that is gone (or will not repeat its events).
    pub fn forget_object(&self, uid: &str) {
        self.lock().forget_object(uid);
    }

    fn lock(&self) -> MutexGuard<'_, Aggregation> {
        // A panic elsewhere cannot leave the table inconsistent: keep using it.
        self.aggregation.lock().unwrap_or_else(|e| e.into_inner())
    }
}
