//! peapod admission (being written)
