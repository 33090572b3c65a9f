//! The platform this node runs as Kubernetes and OCI name it (Go's GOARCH names).

/// This machine's architecture as Go's GOARCH names it (`kubernetes.io/arch`, nodeInfo).
pub fn go_arch() -> &'static str {
    go_arch_of(std::env::consts::ARCH, cfg!(target_endian = "little"))
}

/// Rust's `target_arch` → GOARCH; unknown names pass through unchanged.
pub fn go_arch_of(rust_arch: &'static str, little_endian: bool) -> &'static str {
    match (rust_arch, little_endian) {
        ("x86_64", _) => "amd64",
        ("x86", _) => "386",
        ("aarch64", true) => "arm64",
        ("aarch64", false) => "arm64be",
        ("arm", _) => "arm",
        ("powerpc64", true) => "ppc64le",
        ("powerpc64", false) => "ppc64",
        ("powerpc", _) => "ppc",
        ("mips", true) => "mipsle",
        ("mips", false) => "mips",
        ("mips64", true) => "mips64le",
        ("mips64", false) => "mips64",
        ("loongarch64", _) => "loong64",
        ("wasm32", _) => "wasm",
        // s390x, riscv64, sparc64 share their names.
        (other, _) => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn maps_rust_arch_to_goarch() {
        assert_eq!(go_arch_of("x86_64", true), "amd64");
        assert_eq!(go_arch_of("aarch64", true), "arm64");
        assert_eq!(go_arch_of("arm", true), "arm");
        assert_eq!(go_arch_of("powerpc64", true), "ppc64le");
        assert_eq!(go_arch_of("powerpc64", false), "ppc64");
        assert_eq!(go_arch_of("s390x", false), "s390x");
        assert_eq!(go_arch_of("riscv64", true), "riscv64");
        assert_eq!(go_arch_of("loongarch64", true), "loong64");
        assert_eq!(go_arch_of("x86", true), "386");
        #[cfg(target_arch = "x86_64")]
        assert_eq!(go_arch(), "amd64");
    }
}
