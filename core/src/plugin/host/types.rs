//! `mailex:extractor/types`: data types only, nothing to implement.

use crate::plugin::bindings::types::Host;
use crate::plugin::state::HostState;

impl Host for HostState {}
