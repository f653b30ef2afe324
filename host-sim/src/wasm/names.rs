//! The shipped module's function names, demangled: `gatewasm_core::compile::compile` instead of
//! `_ZN13gatewasm_core7compile7compile17h…E`. Envoy names a trap's frames from the `name`
//! section as written (V8 does not demangle), so operators read these; without the symbol
//! hashes the section is also about 21 KB smaller.
//!
//! Every other section and name subsection is copied byte for byte.

use anyhow::{Context, Result};
use wasm_encoder::{NameMap, NameSection, RawSection};
use wasmparser::{BinaryReader, Parser, Payload};

/// The `name` section's subsection of function names.
const FUNCTION_NAMES: u8 = 1;

/// `module` with its function names demangled (Rust's legacy and v0 manglings; names that are
/// not mangled stay as they are).
///
/// # Errors
///
/// When `module` is not a well-formed WebAssembly module.
pub(super) fn demangle(module: &[u8]) -> Result<Vec<u8>> {
    let mut out = wasm_encoder::Module::new();
    for payload in Parser::new(0).parse_all(module) {
        let payload = payload.context("the module cannot be read")?;
        if let Payload::CustomSection(custom) = &payload {
            if custom.name() == "name" {
                let names = demangled(custom.data_reader())
                    .context("the module's name section cannot be read")?;
                out.section(&names);
                continue;
            }
        }
        if let Some((id, range)) = payload.as_section() {
            let data = module
                .get(range)
                .context("a section runs past the module's end")?;
            out.section(&RawSection { id, data });
        }
    }
    Ok(out.finish())
}

/// The `name` section with the function names demangled; the other subsections (module,
/// globals, data segments) as they were.
fn demangled(mut reader: BinaryReader<'_>) -> wasmparser::Result<NameSection> {
    let mut section = NameSection::new();
    while !reader.eof() {
        let id = reader.read_u8()?;
        let size = reader.read_var_u32()? as usize;
        let offset = reader.original_position();
        let data = reader.read_bytes(size)?;
        if id != FUNCTION_NAMES {
            section.raw(id, data);
            continue;
        }
        let mut map = NameMap::new();
        for naming in wasmparser::NameMap::new(BinaryReader::new(data, offset))? {
            let naming = naming?;
            map.append(
                naming.index,
                &format!("{:#}", rustc_demangle::demangle(naming.name)),
            );
        }
        section.functions(&map);
    }
    Ok(section)
}

#[cfg(test)]
mod tests {
    use wasm_encoder::{
        CodeSection, Function, FunctionSection, Instruction, Module, NameMap, NameSection,
        TypeSection,
    };
    use wasmparser::{BinaryReader, Parser, Payload};

    use super::demangle;

    /// A module of two functions, one named as rustc names it and one plainly, with a global
    /// name subsection beside them.
    fn module() -> Vec<u8> {
        let mut module = Module::new();
        let mut types = TypeSection::new();
        types.ty().function([], []);
        module.section(&types);
        let mut functions = FunctionSection::new();
        functions.function(0).function(0);
        module.section(&functions);
        let mut code = CodeSection::new();
        for _ in 0..2 {
            let mut body = Function::new([]);
            body.instruction(&Instruction::End);
            code.function(&body);
        }
        module.section(&code);
        let mut names = NameSection::new();
        let mut map = NameMap::new();
        map.append(0, "_ZN13gatewasm_core7compile7compile17hfc0023a86b30cc17E");
        map.append(1, "proxy_on_request_headers");
        names.functions(&map);
        let mut globals = NameMap::new();
        globals.append(0, "__stack_pointer");
        names.globals(&globals);
        module.section(&names);
        module.finish()
    }

    /// Function names and the raw bytes of every other section, in order.
    fn read(module: &[u8]) -> (Vec<String>, Vec<Vec<u8>>) {
        let (mut names, mut sections) = (Vec::new(), Vec::new());
        for payload in Parser::new(0).parse_all(module) {
            let payload = payload.unwrap();
            match &payload {
                Payload::CustomSection(custom) if custom.name() == "name" => {
                    let reader = BinaryReader::new(custom.data(), custom.data_offset());
                    for name in wasmparser::NameSectionReader::new(reader) {
                        match name.unwrap() {
                            wasmparser::Name::Function(map) => {
                                names.extend(map.into_iter().map(|n| n.unwrap().name.to_owned()))
                            }
                            wasmparser::Name::Global(map) => names.extend(
                                map.into_iter()
                                    .map(|n| format!("global {}", n.unwrap().name)),
                            ),
                            _ => {}
                        }
                    }
                }
                _ => {
                    if let Some((_, range)) = payload.as_section() {
                        sections.push(module[range].to_vec());
                    }
                }
            }
        }
        (names, sections)
    }

    #[test]
    fn function_names_lose_their_mangling_and_nothing_else_changes() {
        let original = module();
        let demangled = demangle(&original).unwrap();
        wasmparser::Validator::new()
            .validate_all(&demangled)
            .unwrap();
        let (names, sections) = read(&demangled);
        assert_eq!(
            names,
            [
                "gatewasm_core::compile::compile",
                "proxy_on_request_headers",
                "global __stack_pointer"
            ]
        );
        assert_eq!(sections, read(&original).1);
        assert!(demangled.len() < original.len());
    }
}
