//! Call sites of sensitive APIs in one DEX: walks every method's code once
//! and keeps the `invoke-*` / `sget*` whose target the risk tables name,
//! the `const-string`s that hold a host, and the native libraries it loads
//! by a constant name, each with the method holding it.

use rustc_hash::FxHashMap;

use crate::evidence::calls::{CallSite, LIBRARY_PREFIX};
use crate::evidence::Names;
use crate::formats::dex::{walk_code, DexFile, Operand, MAX_ARGS};

/// Sensitive references of one DEX: `method_ids` / `field_ids` index ->
/// position of its `Lclass;->member` text in the unit's API list.
#[derive(Default)]
pub struct Targets {
    pub methods: FxHashMap<u32, usize>,
    pub fields: FxHashMap<u32, usize>,
    /// `string_ids` index -> `host:name` lines of the hosts the string holds.
    pub strings: FxHashMap<u32, Vec<String>>,
    /// Native-library loaders (`System.loadLibrary`, `Runtime.load` ...):
    /// `method_ids` index -> which argument register holds the name, and
    /// whether it is a path (`load`) rather than a library name.
    pub loaders: FxHashMap<u32, (usize, bool)>,
}

/// Methods that load a native library, with the argument holding its name
/// or path (the receiver is the first argument of `Runtime`'s).
const LOADERS: &[(&str, &str, usize)] = &[
    ("Ljava/lang/System;", "loadLibrary", 0),
    ("Ljava/lang/System;", "load", 0),
    ("Ljava/lang/Runtime;", "loadLibrary", 1),
    ("Ljava/lang/Runtime;", "load", 1),
];

impl Targets {
    /// Records method `index` if it is one of the native-library loaders.
    pub fn add_loader(&mut self, index: u32, class: &str, name: &str) {
        if let Some(&(_, _, arg)) = LOADERS.iter().find(|(c, n, _)| *c == class && *n == name) {
            self.loaders.insert(index, (arg, name == "load"));
        }
    }
}

/// The file a loader's string argument names: `loadLibrary("Bugly")` loads
/// `libBugly.so` (`System.mapLibraryName` on Android), `load(path)` the
/// path's file. `None` for strings no library name can be (empty, with
/// spaces or control characters, over 128 bytes).
pub fn library_file(arg: &str, by_path: bool) -> Option<String> {
    let valid =
        |s: &str| !s.is_empty() && s.len() <= 128 && !s.chars().any(|c| c.is_whitespace() || c.is_control());
    if by_path {
        let file = arg.rsplit('/').next()?;
        return valid(file).then(|| file.to_string());
    }
    (valid(arg) && !arg.contains('/')).then(|| format!("lib{arg}.so"))
}

/// The call sites of `targets` in `file`, one line per (API, caller method),
/// sorted; and whether the walk stopped at its budget. The budget is the
/// file's own size in code units: code items are disjoint in a well-formed
/// DEX, so only methods pointing at shared code can exceed it.
pub fn call_sites(file: &DexFile, apis: &Names, targets: &Targets) -> (Names, bool) {
    let mut out = Names::new();
    if targets.methods.is_empty()
        && targets.fields.is_empty()
        && targets.strings.is_empty()
        && targets.loaders.is_empty()
    {
        return (out, false);
    }
    let mut scan = MethodScan::default();
    // Loads whose name a field holds, resolved once every method is walked
    // (the field's writer may come later): (field, by path, caller).
    let mut by_field: Vec<(u32, bool, String)> = Vec::new();
    // Methods that pass one of their own parameters to a loader: method
    // index -> (argument, by path).
    let mut wrappers: FxHashMap<u32, (usize, bool)> = FxHashMap::default();
    let capped = walk_methods(file, |method_idx, insns, params| {
        scan.run(insns, params, targets);
        if scan.hits.is_empty() && scan.hosts.is_empty() && scan.libraries.is_empty() {
            return;
        }
        let caller = caller_name(file, method_idx);
        let hosts = scan.hosts.iter().flat_map(|s| targets.strings.get(s).into_iter().flatten());
        for api in scan.hits.iter().filter_map(|&i| apis.get(i)).chain(hosts.map(String::as_str)) {
            out.push(&CallSite::line(api, &caller));
        }
        for &(source, by_path) in &scan.libraries {
            match source {
                Value::String(string) => push_library(&mut out, file, string, by_path, &caller),
                Value::Field(field) => by_field.push((field, by_path, caller.clone())),
                Value::Param(arg) => {
                    wrappers.insert(method_idx, (arg, by_path));
                }
            }
        }
    });
    if capped {
        out.sort_unstable_dedup();
        return (out, true);
    }
    for (field, by_path, caller) in &by_field {
        if let Some(Some(string)) = scan.fields.get(field) {
            push_library(&mut out, file, *string, *by_path, caller);
        }
    }
    // One level of helpers (Bugly's `NativeCrashHandler.a(String, boolean)`
    // takes the name from its callers): a second walk, only when a DEX has
    // such a helper, with the helpers as the loaders. Its callers' lines
    // name the library as if they called the loader themselves.
    if !wrappers.is_empty() {
        let helpers = Targets { loaders: wrappers, ..Targets::default() };
        let fields = std::mem::take(&mut scan.fields);
        let mut second = MethodScan::default();
        let capped = walk_methods(file, |method_idx, insns, _| {
            second.run(insns, None, &helpers);
            if second.libraries.is_empty() {
                return;
            }
            let caller = caller_name(file, method_idx);
            for &(source, by_path) in &second.libraries {
                let string = match source {
                    Value::String(string) => Some(string),
                    Value::Field(field) => fields.get(&field).copied().flatten(),
                    Value::Param(_) => None,
                };
                if let Some(string) = string {
                    push_library(&mut out, file, string, by_path, &caller);
                }
            }
        });
        if capped {
            out.sort_unstable_dedup();
            return (out, true);
        }
    }
    out.sort_unstable_dedup();
    (out, false)
}

/// Calls `visit(method index, code, (registers, ins))` for every method
/// with code, in class order. Returns whether it stopped at the budget:
/// the file's own size in code units (code items are disjoint in a
/// well-formed DEX, so only methods pointing at shared code exceed it).
fn walk_methods(file: &DexFile, mut visit: impl FnMut(u32, &[u8], Option<(u16, u16)>)) -> bool {
    let mut budget = file.data().len() / 2;
    for class in file.class_defs() {
        for m in file.class_methods(&class) {
            let Some(insns) = file.code_insns(m.code_off) else { continue };
            let units = insns.len() / 2;
            if units > budget {
                return true;
            }
            budget -= units;
            visit(m.method_idx, insns, file.code_registers(m.code_off));
        }
    }
    false
}

fn push_library(out: &mut Names, file: &DexFile, string: u32, by_path: bool, caller: &str) {
    let Some(name) = file.string(string) else { return };
    if let Some(lib) = library_file(&name, by_path) {
        out.push(&CallSite::line(&format!("{LIBRARY_PREFIX}{lib}"), caller));
    }
}

/// What a register holds, as far as a straight-line reading knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Value {
    /// A `const-string` (its `string_ids` index).
    String(u32),
    /// What a field (`field_ids` index) holds; known once the DEX is walked.
    Field(u32),
    /// The method's own parameter at this argument position (the receiver
    /// of an instance method is position 0), as its callers pass it.
    Param(usize),
}

/// What one method's code holds of the targets; the buffers are reused
/// from method to method, the field constants kept for the whole DEX.
#[derive(Default)]
struct MethodScan {
    /// Positions in the API list of the sensitive invokes and sgets.
    hits: Vec<usize>,
    /// `string_ids` indexes of the host-holding strings it loads.
    hosts: Vec<u32>,
    /// Register -> what it was last loaded with.
    loaded: FxHashMap<u16, Value>,
    /// (value, whether a path) of each library a loader is passed.
    libraries: Vec<(Value, bool)>,
    /// Field -> the one constant string every write stores into it; `None`
    /// once two different or a non-constant value are stored
    /// (`static String LIB = "Bugly"`, or set in a constructor).
    fields: FxHashMap<u32, Option<u32>>,
}

impl MethodScan {
    /// `params`: the method's `(registers_size, ins_size)`; its parameters
    /// are the last `ins_size` registers.
    fn run(&mut self, insns: &[u8], params: Option<(u16, u16)>, targets: &Targets) {
        self.hits.clear();
        self.hosts.clear();
        self.loaded.clear();
        self.libraries.clear();
        let track = !targets.loaders.is_empty();
        if let Some((registers, ins)) = params.filter(|_| track) {
            let first = registers.saturating_sub(ins);
            for (arg, register) in (first..registers).enumerate().take(MAX_ARGS) {
                self.loaded.insert(register, Value::Param(arg));
            }
        }
        // Straight-line order, not data flow: a branch can reach the loader
        // with another value in the register. The name only places code by
        // a library the database knows, so a rare wrong pairing places
        // nothing unless it names such a library.
        walk_code(insns, |op| match op {
            Operand::Invoke { method, args } => {
                self.hits.extend(targets.methods.get(&method));
                if let Some(&(arg, by_path)) = targets.loaders.get(&method) {
                    // `arg` < MAX_ARGS by construction; `get` keeps a
                    // future loader table from turning into a panic.
                    if let Some(&value) = args.get(arg).copied().flatten().and_then(|r| self.loaded.get(&r)) {
                        self.libraries.push((value, by_path));
                    }
                }
            }
            Operand::StaticField(idx) => self.hits.extend(targets.fields.get(&idx)),
            Operand::String { string, register } => {
                if targets.strings.contains_key(&string) {
                    self.hosts.push(string);
                }
                if track {
                    self.loaded.insert(register, Value::String(string));
                }
            }
            Operand::ObjectWrite(register) => {
                self.loaded.remove(&register);
            }
            Operand::FieldRead { field, register } => {
                if track {
                    self.loaded.insert(register, Value::Field(field));
                }
            }
            Operand::FieldWrite { field, register } => {
                if track {
                    let value = match self.loaded.get(&register) {
                        Some(Value::String(s)) => Some(*s),
                        _ => None,
                    };
                    let known = self.fields.entry(field).or_insert(value);
                    if *known != value {
                        *known = None;
                    }
                }
            }
        });
    }
}

/// `Lclass;->name(args)ret` of a defined method, or its index when the
/// tables cannot resolve it (a damaged file still says where the call was).
fn caller_name(file: &DexFile, idx: u32) -> String {
    match file.method_ref(idx) {
        Some(m) => format!("{m}{}", file.proto_descriptor(u32::from(m.proto_idx)).unwrap_or_default()),
        None => format!("method@{idx}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes(units: &[u16]) -> Vec<u8> {
        units.iter().flat_map(|u| u.to_le_bytes()).collect()
    }

    fn targets() -> Targets {
        let mut t = Targets::default();
        t.add_loader(1, "Ljava/lang/System;", "loadLibrary");
        t.add_loader(2, "Ljava/lang/Runtime;", "load");
        t.add_loader(3, "Ljava/lang/System;", "getProperty");
        t
    }

    fn libraries(units: &[u16]) -> Vec<(Value, bool)> {
        let mut scan = MethodScan::default();
        scan.run(&bytes(units), None, &targets());
        scan.libraries
    }

    #[test]
    fn a_loader_is_paired_with_the_string_in_its_argument_register() {
        assert_eq!(targets().loaders.len(), 2, "getProperty is no loader");
        // const-string v1, string@7; const-string v0, string@8; invoke-static {v0}, loadLibrary
        assert_eq!(libraries(&[0x011a, 7, 0x001a, 8, 0x1071, 1, 0x0000]), [(Value::String(8), false)]);
        // Runtime.getRuntime() in v2, path in v3: invoke-virtual {v2, v3}, load
        assert_eq!(libraries(&[0x031a, 9, 0x206e, 2, 0x0032]), [(Value::String(9), true)]);
        // move-result-object v0 replaces the constant: nothing is known.
        assert_eq!(libraries(&[0x001a, 8, 0x000c, 0x1071, 1, 0x0000]), []);
        // No string in the register at all.
        assert_eq!(libraries(&[0x1071, 1, 0x0005]), []);
    }

    #[test]
    fn a_name_held_in_a_field_is_known_when_every_write_stores_one_constant() {
        let mut scan = MethodScan::default();
        let t = targets();
        // <clinit>: const-string v0, string@5; sput-object v0, field@2
        scan.run(&bytes(&[0x001a, 5, 0x0069, 2]), None, &t);
        // load(): sget-object v1, field@2; invoke-static {v1}, loadLibrary
        scan.run(&bytes(&[0x0162, 2, 0x1071, 1, 0x0001]), None, &t);
        assert_eq!(scan.libraries, [(Value::Field(2), false)]);
        assert_eq!(scan.fields[&2], Some(5));
        // Another method stores the same constant: still known.
        scan.run(&bytes(&[0x031a, 5, 0x0369, 2]), None, &t);
        assert_eq!(scan.fields[&2], Some(5));
        // A setter stores a parameter: no longer one constant.
        scan.run(&bytes(&[0x0469, 2]), None, &t);
        assert_eq!(scan.fields[&2], None);
        // iput-object v0, v1, field@3 of a constant string.
        scan.run(&bytes(&[0x001a, 6, 0x105b, 3]), None, &t);
        assert_eq!(scan.fields[&3], Some(6));
    }

    #[test]
    fn a_method_passing_its_parameter_to_a_loader_is_a_helper() {
        let mut scan = MethodScan::default();
        // static void a(String name, boolean path): 4 registers, 2 ins (v2, v3).
        // invoke-static {v2}, loadLibrary
        scan.run(&bytes(&[0x1071, 1, 0x0002]), Some((4, 2)), &targets());
        assert_eq!(scan.libraries, [(Value::Param(0), false)]);
        // A local register overwritten before the call is no parameter.
        scan.run(&bytes(&[0x020c, 0x1071, 1, 0x0002]), Some((4, 2)), &targets());
        assert_eq!(scan.libraries, []);
        // Without loaders nothing is tracked.
        scan.run(&bytes(&[0x1071, 1, 0x0002]), Some((4, 2)), &Targets::default());
        assert_eq!(scan.libraries, []);
    }

    #[test]
    fn library_names_map_as_android_maps_them() {
        assert_eq!(library_file("Bugly", false).as_deref(), Some("libBugly.so"));
        assert_eq!(library_file("/data/app/x/lib/arm64/libfoo.so", true).as_deref(), Some("libfoo.so"));
        assert_eq!(library_file("a/b", false), None);
        assert_eq!(library_file("", false), None);
        assert_eq!(library_file("two words", false), None);
    }
}
