//! `mailex:extractor/attachments`: attachment bytes on request. The host copies them into
//! the call only when the plugin imports this interface (charged to the call's budget when the
//! call starts), and each copy handed out is charged again while it is returned.

use crate::plugin::bindings::mailex::extractor::attachments::Host;
use crate::plugin::state::HostState;

impl Host for HostState {
    fn attachment_bytes(&mut self, index: u32) -> wasmtime::Result<Option<Vec<u8>>> {
        self.host_call("attachment-bytes", 0, |state| {
            match state.input.attachments.get(index as usize) {
                Some(bytes) => {
                    state.budget().charge(bytes.len() as u64)?;
                    Ok(Some(bytes.clone()))
                }
                None => Ok(None),
            }
        })
    }
}
