//! peapod streaming (being written)
