//! peapod volumes (being written)
