//! create (POST to a collection): decodes the object, hands it to the storage pipeline,
//! answers 201 with what was created.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;

use super::Ctx;
use crate::errors::ApiResult;
use crate::storage::{self, CreateRequest};
use crate::{admission, body, respond};

pub async fn create(ctx: &Ctx<'_>, raw: Body) -> ApiResult<Response> {
    let bytes = body::read(raw).await?;
    let mut obj = body::decode(&ctx.content_type, &bytes)?;
    let rr = ctx.rr;
    body::check_type(&mut obj, &rr.res.gvk.api_version(), rr.res.gvk.kind)?;
    if ctx.query.strict()? {
        admission::reject_unknown_fields(rr.res, &obj)?;
    }
    let req = CreateRequest {
        res: rr.res,
        namespace: rr.namespace.as_deref(),
        object: obj,
        dry_run: ctx.query.dry_run()?,
    };
    let created = storage::create(ctx.state, req).await?;
    Ok(respond::json(StatusCode::CREATED, &created))
}
