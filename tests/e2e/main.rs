//! End-to-end suite: real `hubnet` processes on this machine, driven as a user would.
//!
//! One binary, one module per area. Every test is bounded in time and waits on conditions with a
//! deadline, never on a sleep.

mod a11y;
mod acme;
mod backup;
mod browser;
mod cli;
mod edge;
mod kill;
mod lab;
mod net;
mod oai;
mod operations;
mod query;
mod signature;
mod support;
mod ui_js;
mod upgrade;
mod web;
