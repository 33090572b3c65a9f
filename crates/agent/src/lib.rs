//! peapod agent (being written)
