//! `runAsNonRoot`, checked as the kubelet checks it before creating a container: from the
//! security context's `runAsUser` and the image's `USER` alone (no look-up of user names in
//! the image), so a failure is a `CreateContainerConfigError` with the kubelet's words.

/// The user an image runs as: a numeric uid, or a name the kubelet cannot judge.
enum ImageUser<'a> {
    Uid(u32),
    Name(&'a str),
}

/// `USER` of the image config: `uid`, `name`, `uid:gid` or `name:group`; empty is root.
fn image_user(user: Option<&str>) -> ImageUser<'_> {
    let user = user.unwrap_or("").split(':').next().unwrap_or("");
    if user.is_empty() {
        return ImageUser::Uid(0);
    }
    match user.parse::<u32>() {
        Ok(uid) => ImageUser::Uid(uid),
        Err(_) => ImageUser::Name(user),
    }
}

/// `pod` is the kubelet's `name_namespace(uid)`.
pub fn verify(
    run_as_non_root: bool,
    run_as_user: Option<i64>,
    image_user_field: Option<&str>,
    pod: &str,
    container: &str,
) -> Result<(), String> {
    if !run_as_non_root {
        return Ok(());
    }
    if let Some(uid) = run_as_user {
        if uid == 0 {
            return Err(format!(
                "container's runAsUser breaks non-root policy (pod: {pod:?}, container: {container})"
            ));
        }
        return Ok(());
    }
    match image_user(image_user_field) {
        ImageUser::Uid(0) => Err(format!(
            "container has runAsNonRoot and image will run as root (pod: {pod:?}, container: {container})"
        )),
        ImageUser::Uid(_) => Ok(()),
        ImageUser::Name(name) => Err(format!(
            "container has runAsNonRoot and image has non-numeric user ({name}), cannot verify user is non-root (pod: {pod:?}, container: {container})"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::verify;

    #[test]
    fn judged_from_run_as_user_and_the_image_user() {
        let p = "web_default(u1)";
        assert_eq!(verify(false, Some(0), None, p, "c"), Ok(()));
        assert_eq!(
            verify(true, Some(0), Some("1000"), p, "c"),
            Err("container's runAsUser breaks non-root policy (pod: \"web_default(u1)\", container: c)".into())
        );
        assert_eq!(verify(true, Some(1000), None, p, "c"), Ok(()));
        assert_eq!(
            verify(true, None, None, p, "c"),
            Err("container has runAsNonRoot and image will run as root (pod: \"web_default(u1)\", container: c)".into())
        );
        assert_eq!(
            verify(true, None, Some("0:0"), p, "c"),
            verify(true, None, Some(""), p, "c")
        );
        assert_eq!(verify(true, None, Some("65534:65534"), p, "c"), Ok(()));
        assert_eq!(
            verify(true, None, Some("nobody"), p, "c"),
            Err("container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: \"web_default(u1)\", container: c)".into())
        );
    }
}
