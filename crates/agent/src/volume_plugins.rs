//! API-projected volumes (configMap, secret, downwardAPI, projected) come from
//! `peapod-volumes`; the runtime bind-mounts the directories it prepares.

use std::sync::Arc;

pub type VolumePlugins = Arc<peapod_volumes::VolumeManager>;
