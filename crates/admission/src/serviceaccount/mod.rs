//! ServiceAccounts: token signing and verification, TokenRequest, admission and the root CA
//! ConfigMap.

mod admit;
mod bound;
mod claims;
mod error;
mod keys;
mod root_ca;
mod signer;
mod token_request;

pub use admit::{
    admit_service_account, service_account_name, token_volume, DEFAULT_SERVICE_ACCOUNT,
    PROJECTED_TOKEN_EXPIRATION_SECONDS, TOKEN_MOUNT_PATH, TOKEN_VOLUME_PREFIX,
};
pub use bound::BoundObjects;
pub use claims::{ObjectRef, TokenClaims, VerifiedToken, ISSUER};
pub use error::TokenError;
pub use keys::{KEY_FILE, PUBLIC_KEY_FILE};
pub use root_ca::{root_ca_configmap, root_ca_configmap_outdated, ROOT_CA_CONFIGMAP};
pub use signer::TokenSigner;
pub use token_request::{
    parse_token_request, token_request_response, BoundObjectRef, TokenRequestError,
    TokenRequestOptions, TokenRequestSpec, DEFAULT_EXPIRATION_SECONDS, EXTENDED_EXPIRATION_SECONDS,
    MAX_EXPIRATION_SECONDS, MIN_EXPIRATION_SECONDS, WARN_ONLY_EXPIRATION_SECONDS,
};

#[cfg(test)]
mod tests_admit;
#[cfg(test)]
mod tests_signer;
#[cfg(test)]
mod tests_token_request;
