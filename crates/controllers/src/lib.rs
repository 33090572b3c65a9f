//! peapod controllers (being written)
