//! (runtime module: see ARCHITECTURE.md)
