//! JSON, merge and strategic merge patches (being written).
