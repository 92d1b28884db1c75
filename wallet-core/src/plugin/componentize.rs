//! A core module made a component, when an author packs or signs it.
//!
//! A Rust plugin built for `wasm32-unknown-unknown` (the SDK's way) is a core
//! module that carries its interface in a `component-type` custom section,
//! written by wit-bindgen. wit-component, the Bytecode Alliance's encoder
//! behind `wasm-tools component new`, wraps it into a component here, so the
//! author needs no other tool. Such a component imports only the plugin
//! interface, no WASI, which makes the instantiation every call begins with
//! cheaper (the README has the figures; docs/plugins.md the design).

use super::PluginError;

/// The custom sections wit-bindgen names `component-type:…`.
const TYPE_SECTION: &str = "component-type";

/// Encodes a core module as a component, or says why it cannot be one.
pub fn component(module: &[u8]) -> Result<Vec<u8>, PluginError> {
    let typed = super::signature::module_custom_sections(module)?
        .iter()
        .any(|name| name.starts_with(TYPE_SECTION));
    if !typed {
        return Err(PluginError::NotAComponent(
            "this core WebAssembly module does not say which interface it implements \
             (no component-type section): build it with wit-bindgen, as the Amanat plugin SDK does"
                .into(),
        ));
    }
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|encoder| encoder.encode())
        .map_err(|e| PluginError::NotAComponent(format!("it cannot be made a component: {e:#}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A core module: the header, then the given custom sections.
    fn module(sections: &[(&str, &[u8])]) -> Vec<u8> {
        let mut out = b"\0asm\x01\0\0\0".to_vec();
        for (name, payload) in sections {
            out.extend_from_slice(&crate::plugin::signature::custom_section(name, payload));
        }
        out
    }

    #[test]
    fn a_module_without_its_interface_is_refused_by_name() {
        let err = component(&module(&[("producers", b"")])).unwrap_err().to_string();
        assert!(
            err.contains("does not say which interface it implements"),
            "{err}"
        );
    }

    #[test]
    fn an_interface_that_does_not_decode_is_the_encoders_error() {
        let err = component(&module(&[("component-type:broken", b"not a component")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("it cannot be made a component: "), "{err}");
    }

    #[test]
    fn a_truncated_module_is_named_so() {
        let mut bytes = module(&[("component-type:x", b"1234")]);
        bytes.truncate(bytes.len() - 2);
        let err = component(&bytes).unwrap_err().to_string();
        assert!(err.contains("truncated"), "{err}");
    }
}
