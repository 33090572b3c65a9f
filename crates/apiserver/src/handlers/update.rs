//! update (PUT), including the status and finalize subresources: decodes the replacement,
//! checks it names the URL's object, hands it to the storage pipeline.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;
use serde_json::Value;

use super::Ctx;
use crate::errors::{ApiError, ApiResult};
use crate::storage::{self, Part, ReplaceRequest, Written};
use crate::{admission, body, object_meta, respond};

pub async fn update(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let rr = ctx.rr;
    let name = rr.name.as_deref().unwrap_or_default();
    let bytes = body::read(raw).await?;
    let mut obj = body::decode(&ctx.content_type, &bytes)?;
    body::check_type(&mut obj, &rr.res.gvk.api_version(), rr.res.gvk.kind)?;
    if ctx.query.strict()? {
        admission::reject_unknown_fields(rr.res, &obj)?;
    }
    match object_meta::name(&obj) {
        Some(n) if n != name => {
            return Err(ApiError::bad_request(format!(
                "the name of the object ({n}) does not match the name on the URL ({name})"
            )))
        }
        Some(_) => {}
        None => object_meta::set_meta(&mut obj, "name", Value::String(name.to_string())),
    }
    let req = ReplaceRequest {
        target: ctx.object_ref(),
        object: obj,
        part: Part::of_subresource(rr.subresource.as_deref()),
        dry_run: ctx.query.dry_run()?,
    };
    Ok(written(storage::replace(ctx.state, req).await?))
}

/// 201 with a created object, 200 with an updated one.
pub fn written(w: Written) -> Response {
    match w {
        Written::Created(obj) => respond::json(StatusCode::CREATED, &obj),
        Written::Updated(obj) => respond::json(StatusCode::OK, &obj),
    }
}
