//! `mailex:extractor/attachments`: attachment bytes on request. The host copies them into
//! the call only when the plugin imports this interface.

use crate::plugin::bindings::mailex::extractor::attachments::Host;
use crate::plugin::state::HostState;

impl Host for HostState {
    fn attachment_bytes(&mut self, index: u32) -> Option<Vec<u8>> {
        self.input.attachments.get(index as usize).cloned()
    }
}
