//! ONNX export of a folded model, every exit an output, written with a small protobuf encoder
//! (only the ONNX messages the model needs: opset 13, Conv / Relu / GlobalAveragePool / Flatten /
//! Gemm). The graph takes the same input as our model — normalised `[N, 3, S, S]` — and the card's
//! mean/std are stored as metadata.

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use fairscreen_core::exit::{exit_names, ExitNaming};
use fairscreen_core::{HostTensor, ModelCard};

/// ONNX IR version written (ONNX 1.10+).
const IR_VERSION: u64 = 8;
/// Default-domain opset written.
const OPSET: u64 = 13;

/// Minimal protobuf writer: fields appended to a byte buffer.
#[derive(Default)]
struct Pb(Vec<u8>);

impl Pb {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }
    fn key(&mut self, field: u32, wire: u8) {
        self.varint((u64::from(field) << 3) | u64::from(wire));
    }
    fn int(&mut self, field: u32, v: i64) {
        self.key(field, 0);
        self.varint(v as u64);
    }
    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, 2);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }
    fn string(&mut self, field: u32, s: &str) {
        self.bytes(field, s.as_bytes());
    }
    fn message(&mut self, field: u32, m: Pb) {
        self.bytes(field, &m.0);
    }
}

/// `TensorProto` of f32 values (raw little-endian data).
fn tensor(name: &str, t: &HostTensor) -> Pb {
    let mut p = Pb::default();
    for &d in &t.shape {
        p.int(1, d as i64); // dims
    }
    p.int(2, 1); // data_type FLOAT
    p.string(8, name);
    let raw: Vec<u8> = t.values.iter().flat_map(|v| v.to_le_bytes()).collect();
    p.bytes(9, &raw); // raw_data
    p
}

/// `ValueInfoProto` of a float tensor; `None` dims are the symbolic batch `N`.
fn value_info(name: &str, dims: &[Option<usize>]) -> Pb {
    let mut shape = Pb::default();
    for d in dims {
        let mut dim = Pb::default();
        match d {
            Some(v) => dim.int(1, *v as i64),
            None => dim.string(2, "N"),
        }
        shape.message(1, dim);
    }
    let mut tensor_type = Pb::default();
    tensor_type.int(1, 1); // elem_type FLOAT
    tensor_type.message(2, shape);
    let mut ty = Pb::default();
    ty.message(1, tensor_type);
    let mut v = Pb::default();
    v.string(1, name);
    v.message(2, ty);
    v
}

/// `AttributeProto` of type INTS.
fn ints_attr(name: &str, values: &[i64]) -> Pb {
    let mut a = Pb::default();
    a.string(1, name);
    for &v in values {
        a.int(8, v);
    }
    a.int(20, 7); // AttributeType INTS
    a
}

/// One graph under construction.
struct Graph {
    nodes: Vec<Pb>,
    initializers: Vec<Pb>,
    tensors: BTreeMap<String, HostTensor>,
    count: usize,
}

impl Graph {
    fn node(&mut self, op: &str, inputs: &[&str], attrs: Vec<Pb>) -> String {
        self.count += 1;
        let out = format!("{}_{}", op.to_lowercase(), self.count);
        let mut n = Pb::default();
        for i in inputs {
            n.string(1, i);
        }
        n.string(2, &out);
        n.string(3, &out);
        n.string(4, op);
        for a in attrs {
            n.message(5, a);
        }
        self.nodes.push(n);
        out
    }

    fn init(&mut self, name: &str) -> Result<String> {
        let t = self
            .tensors
            .get(name)
            .with_context(|| format!("missing tensor '{name}'"))?;
        self.initializers.push(tensor(name, t));
        Ok(name.to_string())
    }

    /// Conv 3×3 (padding 1) + Relu.
    fn conv_relu(&mut self, x: &str, prefix: &str, stride: usize) -> Result<String> {
        let (w, b) = (
            self.init(&format!("{prefix}.weight"))?,
            self.init(&format!("{prefix}.bias"))?,
        );
        let s = stride as i64;
        let y = self.node(
            "Conv",
            &[x, &w, &b],
            vec![
                ints_attr("kernel_shape", &[3, 3]),
                ints_attr("pads", &[1, 1, 1, 1]),
                ints_attr("strides", &[s, s]),
            ],
        );
        Ok(self.node("Relu", &[&y], vec![]))
    }

    /// GlobalAveragePool → Flatten → Gemm (our Linear weights are `[in, out]`: no transpose).
    fn head(&mut self, x: &str, prefix: &str) -> Result<String> {
        let pooled = self.node("GlobalAveragePool", &[x], vec![]);
        let flat = self.node("Flatten", &[&pooled], vec![]);
        let (w, b) = (
            self.init(&format!("{prefix}.weight"))?,
            self.init(&format!("{prefix}.bias"))?,
        );
        Ok(self.node("Gemm", &[&flat, &w, &b], vec![]))
    }
}

/// Names of the graph's outputs, shallow to deep: `exit1_logits` … and `final_logits`.
pub fn output_names(exits: usize) -> Vec<String> {
    exit_names(ExitNaming::OnnxOutput, exits)
}

/// The ONNX model (serialised `ModelProto`) of a folded model.
pub fn export(card: &ModelCard, tensors: &BTreeMap<String, HostTensor>) -> Result<Vec<u8>> {
    let c = &card.config;
    c.validate()?;
    let mut g = Graph {
        nodes: Vec::new(),
        initializers: Vec::new(),
        tensors: tensors.clone(),
        count: 0,
    };
    let mut logits = Vec::new();
    let mut h = "input".to_string();
    for s in 0..c.widths.len() {
        for u in 0..c.convs_per_stage {
            h = g.conv_relu(&h, &format!("stages.{s}.{u}"), if u == 0 { 2 } else { 1 })?;
        }
        for (e, _) in c.exit_stages.iter().enumerate().filter(|(_, &st)| st == s) {
            let maps = g.conv_relu(&h, &format!("exits.{e}.conv"), c.exit_stride)?;
            logits.push(g.head(&maps, &format!("exits.{e}.fc"))?);
        }
    }
    logits.push(g.head(&h, "head.fc")?);
    let names = output_names(c.num_exits());
    let k = c.num_classes();
    let mut graph = Pb::default();
    for n in g.nodes {
        graph.message(1, n);
    }
    // Each exit's Gemm output renamed to its public name with an Identity node.
    for (l, name) in logits.iter().zip(&names) {
        let mut n = Pb::default();
        n.string(1, l);
        n.string(2, name);
        n.string(3, name);
        n.string(4, "Identity");
        graph.message(1, n);
    }
    graph.string(2, &card.name);
    for t in g.initializers {
        graph.message(5, t);
    }
    graph.string(
        10,
        "FairScreen multi-exit CNN; input: RGB in [0, 1], resized to the card's size, normalised by its mean/std, NCHW",
    );
    let s = c.input_size;
    graph.message(11, value_info("input", &[None, Some(3), Some(s), Some(s)]));
    for name in &names {
        graph.message(12, value_info(name, &[None, Some(k)]));
    }
    let mut model = Pb::default();
    model.int(1, IR_VERSION as i64);
    model.string(2, "fairscreen-train");
    model.string(3, env!("CARGO_PKG_VERSION"));
    model.string(
        6,
        &format!(
            "{} — {}. {}",
            card.name, card.training.method, card.disclaimer
        ),
    );
    model.message(7, graph);
    let mut opset = Pb::default();
    opset.string(1, "");
    opset.int(2, OPSET as i64);
    model.message(8, opset);
    let meta = [
        ("fairscreen.mean", format!("{:?}", c.mean)),
        ("fairscreen.std", format!("{:?}", c.std)),
        ("fairscreen.class_names", c.class_names.join(",")),
        ("fairscreen.default_theta", card.default_theta.to_string()),
        ("fairscreen.outputs", names.join(",")),
    ];
    for (key, value) in meta {
        let mut e = Pb::default();
        e.string(1, key);
        e.string(2, &value);
        model.message(14, e);
    }
    Ok(model.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_keys_encode_as_protobuf() {
        let mut p = Pb::default();
        p.int(1, 300);
        assert_eq!(p.0, vec![0x08, 0xac, 0x02]);
        let mut p = Pb::default();
        p.string(2, "hi");
        assert_eq!(p.0, vec![0x12, 2, b'h', b'i']);
        let mut p = Pb::default();
        p.int(3, -1);
        assert_eq!(p.0.len(), 11, "negative int64: ten varint bytes + key");
    }
}
