//! The PostgreSQL store, for several application servers sharing one log.
//!
//! Not written yet: see the server issue.
