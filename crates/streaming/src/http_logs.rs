//! `GET /api/v1/namespaces/{ns}/pods/{pod}/log`.

use std::convert::Infallible;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::backend::{ContainerRef, StreamingBackend};
use crate::cri_log::LogOptions;
use crate::error::StreamError;
use crate::log_stream;
use crate::query::Query;

pub(crate) async fn logs(
    State(backend): State<Arc<dyn StreamingBackend>>,
    Path((namespace, pod)): Path<(String, String)>,
    RawQuery(raw): RawQuery,
) -> Response {
    match serve_logs(backend, namespace, pod, raw).await {
        Ok(response) => response,
        Err(err) => err.into_response(),
    }
}

async fn serve_logs(
    backend: Arc<dyn StreamingBackend>,
    namespace: String,
    pod: String,
    raw: Option<String>,
) -> Result<Response, StreamError> {
    let query = Query::parse(raw.as_deref());
    let options = log_options(&query)?;
    let target = ContainerRef {
        namespace,
        pod,
        container: query.get("container").unwrap_or_default().to_owned(),
    };
    let source = backend.log_source(&target, options.previous)?;
    let chunks = log_stream::start(source, options).await?;
    let body = futures::stream::unfold(chunks, |mut chunks| async move {
        chunks
            .recv()
            .await
            .map(|chunk| (Ok::<_, Infallible>(chunk), chunks))
    });
    Ok((
        StatusCode::OK,
        [(header::CONTENT_TYPE, "text/plain")],
        Body::from_stream(body),
    )
        .into_response())
}

/// Parse and validate the PodLogOptions query parameters.
pub(crate) fn log_options(query: &Query) -> Result<LogOptions, StreamError> {
    let tail_lines = match query.int("tailLines")? {
        Some(n) if n < 0 => {
            return Err(StreamError::BadRequest(
                "tailLines: must be greater than or equal to 0".into(),
            ))
        }
        other => other.map(|n| n as u64),
    };
    let limit_bytes = match query.int("limitBytes")? {
        Some(n) if n < 1 => {
            return Err(StreamError::BadRequest(
                "limitBytes: must be greater than 0".into(),
            ))
        }
        other => other.map(|n| n as u64),
    };
    let since_seconds = query.int("sinceSeconds")?;
    let since_time = query.time("sinceTime")?;
    let since = match (since_seconds, since_time) {
        (Some(_), Some(_)) => {
            return Err(StreamError::BadRequest(
                "at most one of sinceTime or sinceSeconds may be specified".into(),
            ))
        }
        (Some(seconds), None) if seconds < 1 => {
            return Err(StreamError::BadRequest(
                "sinceSeconds: must be greater than 0".into(),
            ))
        }
        (Some(seconds), None) => Some(Utc::now() - chrono::Duration::seconds(seconds)),
        (None, time) => time,
    };
    Ok(LogOptions {
        follow: query.bool("follow")?,
        previous: query.bool("previous")?,
        timestamps: query.bool("timestamps")?,
        tail_lines,
        since,
        limit_bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn options_from_kubectl_query() {
        let q = Query::parse(Some(
            "container=main&follow=true&tailLines=1&timestamps=true&limitBytes=100&previous=true",
        ));
        let options = log_options(&q).expect("valid");
        assert!(options.follow && options.timestamps && options.previous);
        assert_eq!(options.tail_lines, Some(1));
        assert_eq!(options.limit_bytes, Some(100));
        assert_eq!(options.since, None);
    }

    #[test]
    fn since_seconds_is_relative_to_now() {
        let options = log_options(&Query::parse(Some("sinceSeconds=3600"))).expect("valid");
        let since = options.since.expect("set");
        let age = Utc::now() - since;
        assert!(age >= chrono::Duration::seconds(3599) && age <= chrono::Duration::seconds(3601));
    }

    #[test]
    fn invalid_combinations_are_rejected() {
        for bad in [
            "tailLines=-1",
            "limitBytes=0",
            "sinceSeconds=0",
            "sinceSeconds=5&sinceTime=2024-01-01T00:00:00Z",
            "follow=maybe",
        ] {
            assert!(
                matches!(
                    log_options(&Query::parse(Some(bad))),
                    Err(StreamError::BadRequest(_))
                ),
                "{bad} should be rejected"
            );
        }
    }
}
