//! peapod apiserver
