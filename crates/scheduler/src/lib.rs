//! peapod scheduler (being written)
