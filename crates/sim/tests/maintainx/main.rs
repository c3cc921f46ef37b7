//! Integration tests of the MaintainX simulator, each booting it on `127.0.0.1:0` and calling
//! it over HTTP as a connector would.

mod api;
mod common;
mod control;
mod writes;
