//! Decoding of Kubernetes protobuf request bodies (being written).
