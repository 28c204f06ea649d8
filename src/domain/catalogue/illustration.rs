//! Side-view line drawings of the catalogue's exercises, from pose data.
//!
//! A figure is built by forward kinematics from joint angles (trunk lean, hip, knee and ankle of
//! the working leg, and of the other leg), placed on its support (floor, chair seat, step edge,
//! stairs, wall or leg-press sled), dressed with its props, and fitted into a fixed viewBox at a
//! constant scale (1 unit = 1 cm, shrunk only when a pose would not fit), so every exercise shows
//! the same person at the same size standing on the same ground line.
//!
//! The figure faces right (+x). World coordinates are centimetres with y pointing down (as in
//! SVG) and the floor at y = 0; the output is in viewBox units.
//!
//! Pure and std only: `render` is deterministic (same input, same bytes) and never panics.

use std::f64::consts::PI;
use std::fmt::Write as _;

// ---------------------------------------------------------------------------------------------
// Public types
// ---------------------------------------------------------------------------------------------

/// Joint angles of one leg (and the trunk), in degrees.
///
/// * `trunk`: lean of the trunk (hip joint to shoulder joint) from vertical; positive leans
///   forward (the way the figure faces), negative reclines. Ignored for [`OtherLeg`] joints,
///   which share the working leg's trunk.
/// * `hip`: hip flexion, the angle of the thigh from the line of the trunk; 0 = standing
///   (thigh in line with the trunk), positive = thigh forward (90 = seated with an upright
///   trunk), negative = extension (thigh behind the trunk line).
/// * `knee`: knee flexion, the angle between the thigh and the shin; 0 = straight, positive =
///   the shin folds backward (90 = seated).
/// * `ankle`: ankle angle from neutral, where neutral is the foot at 90° to the shin; positive
///   = plantar flexion (toes pointed, heel up), negative = dorsiflexion (toes towards the shin).
///   A foot is flat on a level floor when `ankle = hip - trunk - knee`.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Joints {
    pub trunk: f64,
    pub hip: f64,
    pub knee: f64,
    pub ankle: f64,
}

/// Where the body is supported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// Standing on the floor: the working foot is placed on the floor.
    Floor,
    /// Sitting on a chair: the hip is on a seat of standard height and the thigh pivots at
    /// the hip until the working foot rests on the floor, so `hip` is a starting value (a heel
    /// raise lifts the knee); knee and ankle are drawn exactly as given.
    Seat,
    /// Standing with the ball of the working foot on the edge of a step; toes on the step,
    /// the heel free to sink below its level.
    StepEdge,
    /// On a flight of stairs facing up them: the working foot flat on the second step.
    Stair,
    /// Wall sit: the working foot on the floor, the back against a wall; the thigh pivots at
    /// the hip so the feet stay put and the back stays on the wall as the heels rise.
    WallSit,
    /// Reclined in a leg-press machine: the hip on its seat, the ball of the foot on the
    /// sled's footplate, which moves with the foot.
    Sled,
}

/// Things drawn with the figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prop {
    /// A chair under the hips (seated poses).
    Chair,
    /// A wall: behind the back for a wall sit, otherwise in front of the hands.
    Wall,
    /// A step block under the forefoot (with [`Base::StepEdge`]) or a flight of stairs (with
    /// [`Base::Stair`]).
    Step,
    /// A dumbbell: in the hand with [`Hands::HoldingWeight`], otherwise resting across the thighs.
    Dumbbell,
    /// A loaded backpack on the back.
    Backpack,
    /// The leg-press machine (seat, back pad, rails, footplate).
    LegPressSled,
    /// A sturdy support in front of the hands: a kitchen counter on the floor, a handrail on
    /// a step or stairs.
    Counter,
}

/// Where the hands are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Hands {
    /// Arms relaxed by the sides (they swing when walking; on the sled they hold the handles).
    None,
    /// The fingertips of the near hand touch the support (counter, rail or wall).
    Fingertip,
    /// The near hand holds the support; the other arm hangs.
    OneHand,
    /// Both hands hold the support.
    TwoHands,
    /// Both hands rest on the thighs near the knees (holding the dumbbell if there is one).
    OnKnees,
    /// A dumbbell in the near hand, arm by the side; the other hand holds the support if there
    /// is one, otherwise it carries a second dumbbell.
    HoldingWeight,
    /// Both hands on the chair seat beside the hips, ready to push.
    OnChairSeat,
}

/// What the arrow points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Motion {
    /// Beside the heel, from its start height to its end height (heel raise).
    HeelUp,
    /// Beside the heel, downward (eccentric lowering).
    HeelDown,
    /// In front of the toes, upward (toe raise).
    ToesUp,
    /// A curved arrow around the ankle from the start to the end foot angle (ankle pumps).
    AnklePump,
    /// From the seated hip towards the standing hip (sit-to-stand).
    StandUp,
    /// Under the feet, upward (hops).
    Hop,
    /// In front of the chest, forward (walking, stairs).
    Forward,
    /// From the hip towards the wall (stretches).
    Lean,
    /// Beside the footplate, along the rails (leg press).
    Press,
}

/// A movement arrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Arrow {
    pub motion: Motion,
    /// Heads at both ends (rhythmic and reciprocal movements).
    pub both_ways: bool,
}

/// How the other leg's foot meets the support.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Plant {
    /// Drawn exactly as its angles say (lifted, swinging).
    Free,
    /// The leg pivots at the hip until the foot touches the support; knee and ankle as given.
    Touch,
    /// The leg pivots at the hip and the ankle is set so the sole is flat on the support.
    Flat,
}

/// The far-side leg, when it does not simply mirror the working leg.
#[derive(Debug, Clone, Copy, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OtherLeg {
    pub start: Joints,
    pub end: Joints,
    pub start_plant: Plant,
    pub end_plant: Plant,
}

/// One exercise's drawing: a start and an end position and what surrounds them.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pose {
    pub base: Base,
    /// Where the body is at the end when it differs (sit-to-stand ends standing on the
    /// `Floor`); every frame after the start is then placed by the feet.
    pub end_base: Option<Base>,
    /// The working (near-side) leg and trunk at the start and at the end of the movement.
    pub start: Joints,
    pub end: Joints,
    /// The far-side leg; `None` mirrors the working leg, or, with `single_leg`, lifts the foot
    /// behind (knee bent).
    pub other_leg: Option<OtherLeg>,
    pub props: Vec<Prop>,
    pub hands: Hands,
    pub arrow: Option<Arrow>,
    /// Done on the working leg alone.
    pub single_leg: bool,
    /// At its low point the heel sinks below the level of the step (drawn with a dashed
    /// step-level guide; checked by the tests).
    pub heel_below_step: bool,
    /// Height in cm the body leaves the ground at the end position (hops); 0 otherwise.
    pub hop: f64,
}

/// An exercise's pose and what its pictures say they show (the data of `poses.json`).
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Illustrated {
    pub alt: String,
    pub pose: Pose,
}

/// Which drawing to make.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Frame {
    /// The start position, static (for print).
    Start,
    /// The end position, static (for print).
    End,
    /// The start position, animated to the end and back with SMIL using the tempo.
    Animated,
}

impl Frame {
    pub const ALL: [Frame; 3] = [Frame::Animated, Frame::Start, Frame::End];

    /// The wire name (`?frame=`).
    pub fn as_str(self) -> &'static str {
        match self {
            Frame::Start => "start",
            Frame::End => "end",
            Frame::Animated => "animated",
        }
    }
}

/// viewBox width.
pub const WIDTH: f64 = 320.0;
/// viewBox height.
pub const HEIGHT: f64 = 240.0;
/// y of the ground line in the viewBox.
pub const GROUND_Y: f64 = 222.0;

const NEAR: &str = "#2b3a55";
const FAR: &str = "#8c99ae";
const PROP: &str = "#9aa5b1";
const PROP_FILL: &str = "#eef1f4";
const WEIGHT: &str = "#5d6b7e";
const ACCENT: &str = "#c8653f";
const MARGIN: f64 = 8.0;

// Body proportions in cm for a 170 cm figure (after Winter's segment ratios).
const THIGH: f64 = 41.7;
const SHIN: f64 = 41.8;
const TRUNK: f64 = 48.0; // hip joint to shoulder joint
const UPPER_ARM: f64 = 30.5;
const FOREARM: f64 = 25.0;
const HAND: f64 = 8.0;
const BALL_U: f64 = 14.5; // ankle to ball of the foot along the foot
const SOLE_V: f64 = 6.6; // ankle joint height above the sole
const TOE: f64 = 5.8;
const SEAT_HIP: f64 = 48.5; // hip joint above the floor when seated
const SEAT_BELOW_HIP: f64 = 9.0;
const STEP_H: f64 = 18.0;
const RISER: f64 = 17.0;
const TREAD: f64 = 31.0;
const SLED_HIP: f64 = 52.0;
const FAR_OFFSET: V = V { x: 3.0, y: 0.0 };
const STEPS: usize = 4; // intermediate frames per movement in the animation

// ---------------------------------------------------------------------------------------------
// Public functions
// ---------------------------------------------------------------------------------------------

/// Knee flexion in degrees from three drawn points: 0 when hip, knee and ankle are in line.
pub fn knee_flexion_deg(hip: (f64, f64), knee: (f64, f64), ankle: (f64, f64)) -> f64 {
    let a = V::new(knee.0 - hip.0, knee.1 - hip.1);
    let b = V::new(ankle.0 - knee.0, ankle.1 - knee.1);
    let (la, lb) = (a.len(), b.len());
    if la < 1e-9 || lb < 1e-9 {
        return 0.0;
    }
    (a.dot(b) / (la * lb)).clamp(-1.0, 1.0).acos().to_degrees()
}

/// A complete standalone SVG document of the pose.
///
/// `title` and `alt` become the `<title>` and `<desc>`; `tempo` is (up, hold, down) in
/// seconds and sets the animation's cycle (up + hold + down + 1 s rest).
pub fn render(pose: &Pose, frame: Frame, title: &str, alt: &str, tempo: (f64, f64, f64)) -> String {
    let scene = Scene::build(pose);
    let fit = Fit::of(&scene);
    let id = format!("fig-{:08x}", fnv(&format!("{title}\u{1f}{alt}")));
    let mut out = String::with_capacity(16_384);
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\">",
        num(WIDTH),
        num(HEIGHT),
        num(WIDTH),
        num(HEIGHT)
    );
    let _ = write!(
        out,
        "<title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(alt)
    );
    let shown = match frame {
        Frame::End => scene.frames.len().saturating_sub(1),
        Frame::Start | Frame::Animated => 0,
    };
    // Ground line.
    let ground = vec![
        Cmd::M(fit.raw(V::new(MARGIN / fit.scale - fit.offset_x_world(), 0.0))),
        Cmd::L(fit.raw(V::new((WIDTH - MARGIN) / fit.scale - fit.offset_x_world(), 0.0))),
    ];
    let _ = write!(
        out,
        "<path class=\"ground\" d=\"{}\" fill=\"none\" stroke=\"{PROP}\" stroke-width=\"1.5\" stroke-linecap=\"round\"/>",
        path_raw(&ground)
    );
    // Static props behind the figure.
    for group in &scene.props {
        out.push_str(&group.open);
        for shape in &group.shapes {
            emit_static(&mut out, shape, &fit);
        }
        out.push_str("</g>");
    }
    // The figure (and the props that move with it).
    let timeline = match frame {
        Frame::Animated => Timeline::of(tempo),
        Frame::Start | Frame::End => None,
    };
    let layers = scene.frames.iter().map(|f| &f.layers).collect::<Vec<_>>();
    let (open_near, open_far) = match scene.frames.get(shown) {
        Some(f) => (
            leg_group(&f.near, "leg near", &fit),
            leg_group(&f.far, "leg far", &fit),
        ),
        None => (String::from("<g>"), String::from("<g>")),
    };
    out.push_str("<g class=\"figure\" stroke-linejoin=\"round\" stroke-linecap=\"round\">");
    let count = layers.first().map_or(0, |l| l.len());
    for i in 0..count {
        let shown_shape = layers.get(shown).and_then(|l| l.get(i));
        let Some(shape) = shown_shape else { continue };
        match shape.kind {
            Kind::NearLegStart => out.push_str(&open_near),
            Kind::FarLegStart => out.push_str(&open_far),
            Kind::GroupEnd => out.push_str("</g>"),
            Kind::Draw => {
                let per_frame: Vec<&Shape> = layers.iter().filter_map(|l| l.get(i)).collect();
                emit_shape(&mut out, shape, &per_frame, &fit, timeline.as_ref());
            }
        }
    }
    out.push_str("</g>");
    if let Some(arrow) = &scene.arrow {
        out.push_str("<g class=\"arrow\">");
        for shape in arrow {
            emit_static(&mut out, shape, &fit);
        }
        out.push_str("</g>");
    }
    out.push_str("</svg>");
    out
}

// ---------------------------------------------------------------------------------------------
// Geometry
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
struct V {
    x: f64,
    y: f64,
}

impl V {
    const fn new(x: f64, y: f64) -> Self {
        Self { x, y }
    }
    fn add(self, o: V) -> V {
        V::new(self.x + o.x, self.y + o.y)
    }
    fn sub(self, o: V) -> V {
        V::new(self.x - o.x, self.y - o.y)
    }
    fn mul(self, f: f64) -> V {
        V::new(self.x * f, self.y * f)
    }
    fn dot(self, o: V) -> f64 {
        self.x * o.x + self.y * o.y
    }
    fn cross(self, o: V) -> f64 {
        self.x * o.y - self.y * o.x
    }
    fn len(self) -> f64 {
        self.dot(self).sqrt()
    }
    fn norm(self) -> V {
        let l = self.len();
        if l < 1e-12 {
            V::new(1.0, 0.0)
        } else {
            self.mul(1.0 / l)
        }
    }
    /// Rotated by `deg` (clockwise on screen, since y points down).
    fn rot(self, deg: f64) -> V {
        let (s, c) = deg.to_radians().sin_cos();
        V::new(self.x * c - self.y * s, self.x * s + self.y * c)
    }
    /// Rotated a quarter turn clockwise on screen: for a forward direction, the downward one.
    fn cw(self) -> V {
        V::new(-self.y, self.x)
    }
    /// Local frame: `u` along `axis`, `v` along `side`.
    fn at(self, axis: V, side: V, u: f64, v: f64) -> V {
        self.add(axis.mul(u)).add(side.mul(v))
    }
}

/// Unit vector at `deg` from +x (clockwise on screen).
fn dir(deg: f64) -> V {
    let (s, c) = deg.to_radians().sin_cos();
    V::new(c, s)
}

/// A path command in world coordinates (absolute).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Cmd {
    M(V),
    L(V),
    C(V, V, V),
    Z,
}

fn cmd_points(c: &Cmd) -> Vec<V> {
    match *c {
        Cmd::M(a) | Cmd::L(a) => vec![a],
        Cmd::C(a, b, d) => vec![a, b, d],
        Cmd::Z => Vec::new(),
    }
}

/// A closed smooth outline through `pts` (uniform Catmull-Rom as cubic Béziers).
fn smooth_closed(pts: &[V], tension: f64) -> Vec<Cmd> {
    let n = pts.len();
    let mut out = Vec::with_capacity(n + 2);
    let get = |i: usize| pts.get(i % n.max(1)).copied().unwrap_or(V::new(0.0, 0.0));
    if n < 3 {
        return out;
    }
    out.push(Cmd::M(get(0)));
    for i in 0..n {
        let p0 = get(i + n - 1);
        let p1 = get(i);
        let p2 = get(i + 1);
        let p3 = get(i + 2);
        let c1 = p1.add(p2.sub(p0).mul(tension));
        let c2 = p2.sub(p3.sub(p1).mul(tension));
        out.push(Cmd::C(c1, c2, p2));
    }
    out.push(Cmd::Z);
    out
}

/// Cubic Bézier pieces of a circular arc from angle `a0` to `a1` (degrees, signed sweep).
fn arc(center: V, r: f64, a0: f64, a1: f64, pieces: usize) -> Vec<Cmd> {
    let n = pieces.max(1);
    let sweep = (a1 - a0) / n as f64;
    let k = 4.0 / 3.0 * (sweep.to_radians() / 4.0).tan();
    let mut out = Vec::with_capacity(n);
    for i in 0..n {
        let s = a0 + sweep * i as f64;
        let e = s + sweep;
        let p0 = center.add(dir(s).mul(r));
        let p3 = center.add(dir(e).mul(r));
        let c1 = p0.add(dir(s).cw().mul(r * k));
        let c2 = p3.sub(dir(e).cw().mul(r * k));
        out.push(Cmd::C(c1, c2, p3));
    }
    out
}

/// A tapered capsule from `a` (radius `ra`) to `b` (radius `rb`).
fn capsule(a: V, ra: f64, b: V, rb: f64) -> Vec<Cmd> {
    let d = b.sub(a);
    let len = d.len().max(1e-6);
    let u = d.norm();
    let ang = u.y.atan2(u.x).to_degrees();
    let beta = ((ra - rb) / len).clamp(-0.95, 0.95).asin().to_degrees();
    // Tangent normals at ang ± (90 - beta) on both circles.
    let n1 = ang + 90.0 - beta; // clockwise side
    let n2 = ang - 90.0 + beta; // counter-clockwise side
    let mut out = vec![Cmd::M(a.add(dir(n1).mul(ra))), Cmd::L(b.add(dir(n1).mul(rb)))];
    // Around b from n1 to n2 through ang (decreasing angle).
    out.extend(arc(b, rb, n1, n2, 2));
    out.push(Cmd::L(a.add(dir(n2).mul(ra))));
    // Around a from n2 to n1 - 360 through ang + 180 (decreasing).
    out.extend(arc(a, ra, n2, n1 - 360.0, 2));
    out.push(Cmd::Z);
    out
}

/// An ellipse with semi-axes `rx` along `axis` and `ry` across it.
fn ellipse(c: V, axis: V, rx: f64, ry: f64) -> Vec<Cmd> {
    let side = axis.cw();
    let k = 0.552_284_75;
    let p = |u: f64, v: f64| c.at(axis, side, u, v);
    vec![
        Cmd::M(p(rx, 0.0)),
        Cmd::C(p(rx, ry * k), p(rx * k, ry), p(0.0, ry)),
        Cmd::C(p(-rx * k, ry), p(-rx, ry * k), p(-rx, 0.0)),
        Cmd::C(p(-rx, -ry * k), p(-rx * k, -ry), p(0.0, -ry)),
        Cmd::C(p(rx * k, -ry), p(rx, -ry * k), p(rx, 0.0)),
        Cmd::Z,
    ]
}

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> Vec<Cmd> {
    vec![
        Cmd::M(V::new(x0, y0)),
        Cmd::L(V::new(x1, y0)),
        Cmd::L(V::new(x1, y1)),
        Cmd::L(V::new(x0, y1)),
        Cmd::Z,
    ]
}

fn line(a: V, b: V) -> Vec<Cmd> {
    vec![Cmd::M(a), Cmd::L(b)]
}

fn polyline(pts: &[V]) -> Vec<Cmd> {
    pts.iter()
        .enumerate()
        .map(|(i, p)| if i == 0 { Cmd::M(*p) } else { Cmd::L(*p) })
        .collect()
}

/// Rounded rectangle in a local frame (axis along the length).
fn round_box(origin: V, axis: V, len: f64, depth: f64, r: f64) -> Vec<Cmd> {
    let side = axis.cw();
    let p = |u: f64, v: f64| origin.at(axis, side, u, v);
    let r = r.min(len / 2.0).min(depth / 2.0);
    let k = 0.552_284_75 * r;
    vec![
        Cmd::M(p(r, 0.0)),
        Cmd::L(p(len - r, 0.0)),
        Cmd::C(p(len - r + k, 0.0), p(len, r - k), p(len, r)),
        Cmd::L(p(len, depth - r)),
        Cmd::C(p(len, depth - r + k), p(len - r + k, depth), p(len - r, depth)),
        Cmd::L(p(r, depth)),
        Cmd::C(p(r - k, depth), p(0.0, depth - r + k), p(0.0, depth - r)),
        Cmd::L(p(0.0, r)),
        Cmd::C(p(0.0, r - k), p(r - k, 0.0), p(r, 0.0)),
        Cmd::Z,
    ]
}

fn ease(t: f64) -> f64 {
    0.5 - 0.5 * (PI * t).cos()
}

fn mix(a: f64, b: f64, t: f64) -> f64 {
    a + (b - a) * t
}

fn mix_joints(a: &Joints, b: &Joints, t: f64) -> Joints {
    Joints {
        trunk: mix(a.trunk, b.trunk, t),
        hip: mix(a.hip, b.hip, t),
        knee: mix(a.knee, b.knee, t),
        ankle: mix(a.ankle, b.ankle, t),
    }
}

/// Finds x in [lo, hi] with f(x) = 0 by bisection, when f changes sign there.
fn bisect(f: &dyn Fn(f64) -> f64, lo: f64, hi: f64) -> Option<f64> {
    let (mut a, mut b) = (lo, hi);
    let (mut fa, fb) = (f(a), f(b));
    if !(fa.is_finite() && fb.is_finite()) || fa * fb > 0.0 {
        return None;
    }
    for _ in 0..60 {
        let m = 0.5 * (a + b);
        let fm = f(m);
        if fa * fm <= 0.0 {
            b = m;
        } else {
            a = m;
            fa = fm;
        }
    }
    Some(0.5 * (a + b))
}

/// The root of f nearest 0 within ±`span`, scanning outward in steps of 1.
fn nearest_root(f: &dyn Fn(f64) -> f64, span: f64) -> Option<f64> {
    let f0 = f(0.0);
    if f0.abs() < 1e-6 {
        return Some(0.0);
    }
    let mut step = 1.0;
    while step <= span {
        for sign in [1.0, -1.0] {
            let (a, b) = (sign * (step - 1.0), sign * step);
            if f(a) * f(b) <= 0.0 {
                return bisect(f, a.min(b), a.max(b));
            }
        }
        step += 1.0;
    }
    None
}

// ---------------------------------------------------------------------------------------------
// The body
// ---------------------------------------------------------------------------------------------

/// A support surface under a foot: its direction (where the toes point along it) and whether
/// the foot stands on its edge (the toes stay on it while the heel is free).
#[derive(Debug, Clone, Copy)]
struct Surface {
    tangent: V,
    edge: bool,
}

#[derive(Debug, Clone, Copy)]
struct Leg {
    hip: V,
    knee: V,
    ankle: V,
    foot: V,
    toe: V,
    ball: V,
    heel: V,
}

impl Leg {
    fn new(hip: V, trunk: f64, hip_flex: f64, knee: f64, ankle: f64, ground: Option<Surface>) -> Leg {
        let a_thigh = 90.0 - hip_flex + trunk;
        let a_shin = a_thigh + knee;
        let a_foot = a_shin - 90.0 + ankle;
        let k = hip.add(dir(a_thigh).mul(THIGH));
        let an = k.add(dir(a_shin).mul(SHIN));
        let foot = dir(a_foot);
        let sole = foot.cw();
        let ball = an.at(foot, sole, BALL_U, SOLE_V);
        let heel = an.at(foot, sole, -2.5, SOLE_V);
        let toe = match ground {
            Some(s) if s.edge || s.tangent.cross(foot) > 0.0 => s.tangent,
            _ => foot,
        };
        Leg {
            hip,
            knee: k,
            ankle: an,
            foot,
            toe,
            ball,
            heel,
        }
    }

    fn translate(self, d: V) -> Leg {
        Leg {
            hip: self.hip.add(d),
            knee: self.knee.add(d),
            ankle: self.ankle.add(d),
            ball: self.ball.add(d),
            heel: self.heel.add(d),
            ..self
        }
    }

    fn toe_tip(&self) -> V {
        self.ball.add(self.toe.mul(TOE))
    }

    /// Points that can touch the ground.
    fn contacts(&self) -> [V; 4] {
        let sole = self.foot.cw();
        [
            self.heel,
            self.ankle.at(self.foot, sole, -5.2, 5.0),
            self.ball,
            self.toe_tip(),
        ]
    }

    fn lowest(&self) -> f64 {
        self.contacts().iter().fold(f64::MIN, |m, p| m.max(p.y))
    }

    fn thigh_dir(&self) -> V {
        self.knee.sub(self.hip).norm()
    }

    fn shapes(&self, colour: &'static str) -> Vec<Shape> {
        let thigh = capsule(self.hip, 8.2, self.knee, 5.6);
        let u = self.ankle.sub(self.knee).norm();
        let front = V::new(u.y, -u.x); // towards the shin's front
        let l = self.ankle.sub(self.knee).len();
        let p = |a: f64, b: f64| self.knee.at(u, front, a, b);
        let shin = smooth_closed(
            &[
                p(-4.6, 2.6),
                p(-0.6, 5.6),
                p(l * 0.42, 4.7),
                p(l - 4.0, 3.4),
                p(l + 1.2, 2.9),
                p(l + 2.2, -0.6),
                p(l - 3.0, -3.6),
                p(l * 0.72, -3.9),
                p(l * 0.45, -6.3),
                p(l * 0.2, -7.3),
                p(1.0, -5.8),
                p(-4.0, -2.8),
            ],
            1.0 / 6.0,
        );
        let f = self.foot;
        let s = f.cw();
        let q = |a: f64, b: f64| self.ankle.at(f, s, a, b);
        let t = self.toe;
        let tn = t.cw();
        let b = self.ball;
        let foot = smooth_closed(
            &[
                q(-3.4, -3.6),
                q(-6.4, 1.0),
                q(-5.2, 5.0),
                q(-2.5, SOLE_V),
                q(5.0, 6.2),
                b,
                b.at(t, tn, TOE, 0.0),
                b.at(t, tn, TOE + 0.6, -2.2),
                b.at(t, tn, 1.5, -3.7),
                q(9.0, 1.6),
                q(4.0, -2.6),
            ],
            1.0 / 6.0,
        );
        vec![
            Shape::fill(shin, colour),
            Shape::fill(thigh, colour),
            Shape::fill(foot, colour),
        ]
    }
}

#[derive(Debug, Clone, Copy)]
struct Arm {
    shoulder: V,
    elbow: V,
    wrist: V,
    hand: V,
}

impl Arm {
    /// Two-link IK to the wrist target, the elbow bent down and back.
    fn reach(shoulder: V, wrist: V, hand_dir: V) -> Arm {
        let d = wrist.sub(shoulder);
        let dist = d
            .len()
            .clamp((UPPER_ARM - FOREARM).abs() + 0.5, UPPER_ARM + FOREARM - 0.2);
        let u = d.norm();
        let cos_a = (UPPER_ARM * UPPER_ARM + dist * dist - FOREARM * FOREARM) / (2.0 * UPPER_ARM * dist);
        let a = cos_a.clamp(-1.0, 1.0).acos().to_degrees();
        let elbow = shoulder.add(u.rot(a).mul(UPPER_ARM));
        let w = shoulder.add(u.mul(dist));
        Arm {
            shoulder,
            elbow,
            wrist: w,
            hand: hand_dir.norm(),
        }
    }

    /// Hanging from the shoulder: `swing` forward from the trunk's downward line, elbow bent
    /// `bend` forward.
    fn hang(shoulder: V, trunk_down: V, swing: f64, bend: f64) -> Arm {
        let upper = trunk_down.rot(-swing);
        let elbow = shoulder.add(upper.mul(UPPER_ARM));
        let fore = upper.rot(-bend);
        let wrist = elbow.add(fore.mul(FOREARM));
        Arm {
            shoulder,
            elbow,
            wrist,
            hand: fore.rot(-8.0),
        }
    }

    fn hand_centre(&self) -> V {
        self.wrist.add(self.hand.mul(HAND * 0.55))
    }

    fn shapes(&self, colour: &'static str, halo: bool) -> Vec<Shape> {
        let tip = self.wrist.add(self.hand.mul(HAND));
        let mut v = vec![
            Shape::fill(capsule(self.shoulder, 4.6, self.elbow, 3.7), colour),
            Shape::fill(capsule(self.elbow, 3.7, self.wrist, 2.8), colour),
            Shape::fill(capsule(self.wrist, 2.8, tip, 2.3), colour),
        ];
        if halo {
            for s in &mut v {
                s.halo = true;
            }
        }
        v
    }
}

/// The trunk, neck and head.
#[derive(Debug, Clone, Copy)]
struct Torso {
    hip: V,
    axis: V,
    lean: f64,
}

impl Torso {
    fn new(hip: V, lean: f64) -> Torso {
        Torso {
            hip,
            axis: dir(-90.0 + lean),
            lean,
        }
    }
    /// Towards the front of the body (the way the figure faces).
    fn front(&self) -> V {
        self.axis.cw()
    }
    /// A point `u` along the trunk from the hip and `v` towards its front.
    fn p(&self, u: f64, v: f64) -> V {
        self.hip.at(self.axis, self.front(), u, v)
    }
    fn shoulder(&self) -> V {
        self.p(TRUNK, 0.0)
    }
    fn outline_points(&self) -> Vec<V> {
        [
            (-5.0, -10.2),
            (14.0, -7.6),
            (30.0, -8.8),
            (43.0, -9.4),
            (51.0, -5.6),
            (54.5, -2.0),
            (54.0, 3.6),
            (48.0, 8.6),
            (38.0, 10.8),
            (29.0, 8.6),
            (19.0, 7.6),
            (9.0, 9.0),
            (1.0, 8.2),
            (-6.0, 3.0),
            (-8.6, -4.6),
        ]
        .iter()
        .map(|(u, v)| self.p(*u, *v))
        .collect()
    }
    fn head_axis(&self) -> V {
        // The head stays closer to upright than the trunk.
        dir(-90.0 + self.lean * 0.45)
    }
    fn neck_base(&self) -> V {
        self.p(51.0, 1.2)
    }
    fn head_centre(&self) -> V {
        self.neck_base()
            .add(self.head_axis().mul(16.0))
            .add(self.head_axis().cw().mul(1.5))
    }
    fn shapes(&self) -> Vec<Shape> {
        let head_axis = self.head_axis();
        let head_c = self.head_centre();
        let neck_top = head_c.sub(head_axis.mul(5.0));
        vec![
            Shape::fill(smooth_closed(&self.outline_points(), 1.0 / 6.0), NEAR),
            Shape::fill(capsule(self.neck_base(), 5.0, neck_top, 4.6), NEAR),
            Shape::fill(ellipse(head_c, head_axis, 11.6, 9.9), NEAR),
        ]
    }
}

// ---------------------------------------------------------------------------------------------
// Shapes and the scene
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
enum Kind {
    Draw,
    NearLegStart,
    FarLegStart,
    GroupEnd,
}

#[derive(Debug, Clone)]
struct Shape {
    kind: Kind,
    cmds: Vec<Cmd>,
    fill: Option<&'static str>,
    stroke: Option<(&'static str, f64)>,
    halo: bool,
    dash: bool,
    class: &'static str,
}

impl Shape {
    fn fill(cmds: Vec<Cmd>, colour: &'static str) -> Shape {
        Shape {
            kind: Kind::Draw,
            cmds,
            fill: Some(colour),
            stroke: None,
            halo: false,
            dash: false,
            class: "",
        }
    }
    fn stroke(cmds: Vec<Cmd>, colour: &'static str, width: f64) -> Shape {
        Shape {
            kind: Kind::Draw,
            cmds,
            fill: None,
            stroke: Some((colour, width)),
            halo: false,
            dash: false,
            class: "",
        }
    }
    fn both(cmds: Vec<Cmd>, fill: &'static str, stroke: &'static str, width: f64) -> Shape {
        Shape {
            kind: Kind::Draw,
            cmds,
            fill: Some(fill),
            stroke: Some((stroke, width)),
            halo: false,
            dash: false,
            class: "",
        }
    }
    fn marker(kind: Kind) -> Shape {
        Shape {
            kind,
            cmds: Vec::new(),
            fill: None,
            stroke: None,
            halo: false,
            dash: false,
            class: "",
        }
    }
    fn class(mut self, c: &'static str) -> Shape {
        self.class = c;
        self
    }
}

struct PropGroup {
    open: String,
    shapes: Vec<Shape>,
}

/// One drawn position.
struct FrameGeo {
    near: Leg,
    far: Leg,
    layers: Vec<Shape>,
}

/// Body geometry before arms and props.
#[derive(Debug, Clone, Copy)]
struct Body {
    near: Leg,
    far: Leg,
    torso: Torso,
    far_mirrors: bool,
}

struct Scene {
    frames: Vec<FrameGeo>,
    props: Vec<PropGroup>,
    arrow: Option<Vec<Shape>>,
}

/// Where the support props are, fixed from the start position.
#[derive(Debug, Clone, Copy, Default)]
struct Layout {
    seat_top: f64,
    seat_x: f64,
    wall_x: f64,
    wall_behind: bool,
    hand_y: f64,
    counter_x: f64,
    counter_top: f64,
    rail_post_x: f64,
    step_edge: f64,
    plate_tangent: V0,
    plate_normal: V0,
}

#[derive(Debug, Clone, Copy, Default)]
struct V0 {
    x: f64,
    y: f64,
}

impl From<V0> for V {
    fn from(v: V0) -> V {
        V::new(v.x, v.y)
    }
}

impl From<V> for V0 {
    fn from(v: V) -> V0 {
        V0 { x: v.x, y: v.y }
    }
}

fn default_lifted() -> Joints {
    Joints {
        trunk: 0.0,
        hip: 8.0,
        knee: 85.0,
        ankle: 25.0,
    }
}

fn surface_y(base: Base, x: f64) -> f64 {
    match base {
        Base::StepEdge if (-3.0..=45.0).contains(&x) => -STEP_H,
        Base::StepEdge => 0.0,
        Base::Stair => {
            let mut y = 0.0;
            for n in 1..=STEPS_IN_FLIGHT {
                let riser = (n as f64 - 2.0) * TREAD;
                if x >= riser {
                    y = -RISER * n as f64;
                }
            }
            y
        }
        _ => 0.0,
    }
}

const STEPS_IN_FLIGHT: usize = 4;

fn floor_surface(base: Base) -> Surface {
    Surface {
        tangent: V::new(1.0, 0.0),
        edge: matches!(base, Base::StepEdge),
    }
}

impl Scene {
    fn build(pose: &Pose) -> Scene {
        let samples: Vec<f64> = (0..=STEPS).map(|i| ease(i as f64 / STEPS as f64)).collect();
        // Pose-level choices made from the start and end.
        let heel_anchor = {
            let pitch = |j: &Joints| j.ankle - (j.hip - j.trunk - j.knee);
            let (a, b) = (pitch(&pose.start), pitch(&pose.end));
            a.min(b) < -2.0 && a.max(b) <= 2.0
        };
        let mut ctx = Placer {
            pose,
            heel_anchor,
            anchor_x: 0.0,
            wall_dx: 0.0,
            plate: V::new(0.0, -1.0),
            start_delta: 0.0,
        };
        let bodies: Vec<Body> = samples
            .iter()
            .enumerate()
            .map(|(i, s)| ctx.place(*s, i == 0))
            .collect();
        let layout = Layout::of(pose, &bodies, &ctx);
        let frames: Vec<FrameGeo> = bodies.iter().map(|b| dress(pose, b, &layout)).collect();
        let props = props(pose, &layout, &bodies);
        let arrow = pose.arrow.and_then(|a| arrow_shapes(a, &bodies, &layout));
        Scene { frames, props, arrow }
    }
}

struct Placer<'a> {
    pose: &'a Pose,
    heel_anchor: bool,
    anchor_x: f64,
    wall_dx: f64,
    plate: V,
    start_delta: f64,
}

impl Placer<'_> {
    fn angles(&self, s: f64) -> (Joints, Option<(Joints, Plant)>) {
        let p = self.pose;
        let near = mix_joints(&p.start, &p.end, s);
        let other = match (&p.other_leg, p.single_leg) {
            (Some(o), _) => {
                let j = mix_joints(&o.start, &o.end, s);
                let plant = if s <= 0.0 {
                    o.start_plant
                } else if s >= 1.0 || o.start_plant == o.end_plant {
                    o.end_plant
                } else {
                    Plant::Free
                };
                Some((j, plant))
            }
            (None, true) => Some((default_lifted(), Plant::Free)),
            (None, false) => None,
        };
        (near, other)
    }

    fn place(&mut self, s: f64, first: bool) -> Body {
        let p = self.pose;
        let (j, other) = self.angles(s);
        let base = if first {
            p.base
        } else {
            p.end_base.unwrap_or(p.base)
        };
        let by_feet = !first && p.end_base.is_some_and(|b| b != p.base);
        let hop = p.hop * s;
        let grounded = hop <= 0.0;
        let surf = floor_surface(base);
        let ground = if grounded { Some(surf) } else { None };
        let leg_at = |delta: f64, ground: Option<Surface>| {
            Leg::new(V::new(0.0, 0.0), j.trunk, j.hip + delta, j.knee, j.ankle, ground)
        };
        let (near, delta) = if by_feet {
            let delta = self.start_delta * (1.0 - s);
            let leg = leg_at(delta, ground);
            let anchor = if self.heel_anchor { leg.heel } else { leg.ball };
            (
                leg.translate(V::new(self.anchor_x - anchor.x, -leg.lowest() - hop)),
                delta,
            )
        } else {
            match base {
                Base::Floor | Base::WallSit => {
                    let delta = if base == Base::WallSit && !first {
                        let dx0 = self.wall_dx;
                        let f = |d: f64| {
                            let l = leg_at(d, ground);
                            (l.hip.x - l.ball.x) - dx0
                        };
                        nearest_root(&f, 40.0).unwrap_or(0.0)
                    } else {
                        0.0
                    };
                    let leg = leg_at(delta, ground);
                    if first {
                        self.wall_dx = leg.hip.x - leg.ball.x;
                    }
                    let anchor = if self.heel_anchor { leg.heel } else { leg.ball };
                    (leg.translate(V::new(-anchor.x, -leg.lowest() - hop)), delta)
                }
                Base::StepEdge => {
                    let leg = leg_at(0.0, ground);
                    (
                        leg.translate(V::new(-leg.ball.x, -STEP_H - leg.ball.y - hop)),
                        0.0,
                    )
                }
                Base::Stair => {
                    let leg = leg_at(0.0, ground);
                    (
                        leg.translate(V::new(2.5 - leg.heel.x, -2.0 * RISER - leg.lowest())),
                        0.0,
                    )
                }
                Base::Seat => {
                    let hip = V::new(0.0, -SEAT_HIP);
                    let f = |d: f64| Leg::new(hip, j.trunk, j.hip + d, j.knee, j.ankle, ground).lowest();
                    let delta = nearest_root(&f, 60.0).unwrap_or(0.0);
                    (
                        Leg::new(hip, j.trunk, j.hip + delta, j.knee, j.ankle, ground),
                        delta,
                    )
                }
                Base::Sled => {
                    let hip = V::new(0.0, -SLED_HIP);
                    if first {
                        let free = Leg::new(hip, j.trunk, j.hip, j.knee, j.ankle, None);
                        let rail = free.ball.sub(hip).norm();
                        let t = rail.cw();
                        // The plate's tangent points up (away from the floor).
                        self.plate = if t.y < 0.0 { t } else { t.mul(-1.0) };
                    }
                    let g = Some(Surface {
                        tangent: self.plate,
                        edge: true,
                    });
                    (Leg::new(hip, j.trunk, j.hip, j.knee, j.ankle, g), 0.0)
                }
            }
        };
        if first {
            self.anchor_x = if self.heel_anchor {
                near.heel.x
            } else {
                near.ball.x
            };
            self.start_delta = delta;
        }
        let hip = near.hip;
        let far_hip = hip.add(FAR_OFFSET);
        let (far, mirrors) = match other {
            None => (
                Leg::new(far_hip, j.trunk, j.hip + delta, j.knee, j.ankle, ground),
                true,
            ),
            Some((o, plant)) => {
                let far_surface = Surface {
                    tangent: V::new(1.0, 0.0),
                    edge: matches!(base, Base::StepEdge),
                };
                let make = |d: f64| -> Leg {
                    let hip_flex = o.hip + d;
                    let ankle = match plant {
                        Plant::Flat => {
                            let a_shin = 90.0 - hip_flex + j.trunk + o.knee;
                            90.0 - a_shin
                        }
                        Plant::Free | Plant::Touch => o.ankle,
                    };
                    let g = if plant == Plant::Free {
                        None
                    } else {
                        Some(far_surface)
                    };
                    Leg::new(far_hip, j.trunk, hip_flex, o.knee, ankle, g)
                };
                let d = match plant {
                    Plant::Free => 0.0,
                    Plant::Touch | Plant::Flat => {
                        let f = |d: f64| {
                            let l = make(d);
                            l.contacts()
                                .iter()
                                .fold(f64::MAX, |m, p| m.min(surface_y(base, p.x) - p.y))
                        };
                        nearest_root(&f, 50.0).unwrap_or(0.0)
                    }
                };
                (make(d), false)
            }
        };
        let far = if mirrors && base == Base::Sled {
            Leg::new(
                far_hip,
                j.trunk,
                j.hip,
                j.knee,
                j.ankle,
                Some(Surface {
                    tangent: self.plate,
                    edge: true,
                }),
            )
        } else {
            far
        };
        Body {
            near,
            far,
            torso: Torso::new(hip, j.trunk),
            far_mirrors: mirrors,
        }
    }
}

impl Layout {
    fn of(pose: &Pose, bodies: &[Body], ctx: &Placer<'_>) -> Layout {
        let mut l = Layout {
            plate_tangent: ctx.plate.into(),
            plate_normal: ctx.plate.cw().mul(-1.0).into(),
            ..Layout::default()
        };
        let Some(start) = bodies.first() else { return l };
        l.seat_top = start.near.hip.y + SEAT_BELOW_HIP;
        l.seat_x = start.near.hip.x;
        let max_front = bodies
            .iter()
            .flat_map(|b| {
                [
                    b.near.toe_tip().x,
                    b.far.toe_tip().x,
                    b.near.knee.x + 6.0,
                    b.far.knee.x + 6.0,
                ]
            })
            .fold(f64::MIN, f64::max);
        let shoulder = start.torso.shoulder();
        l.hand_y = shoulder.y + 3.0;
        l.wall_behind = pose.base == Base::WallSit;
        if l.wall_behind {
            let back = bodies
                .iter()
                .take(1)
                .flat_map(|b| b.torso.outline_points())
                .fold(f64::MAX, |m, p| m.min(p.x));
            l.wall_x = back - 0.4;
        } else {
            let reach = match pose.hands {
                Hands::Fingertip => 0.93,
                _ => 0.8,
            } * (UPPER_ARM + FOREARM)
                + HAND * 0.6;
            l.wall_x = (shoulder.x + reach).max(max_front + 3.0);
        }
        l.counter_x = max_front + 5.0;
        l.counter_top = -95.0;
        l.rail_post_x = max_front + 14.0;
        l.step_edge = -3.0;
        l
    }
}

fn has(pose: &Pose, p: Prop) -> bool {
    pose.props.contains(&p)
}

/// Where a hand holding the support goes: wrist target and hand direction.
fn support_grip(pose: &Pose, l: &Layout, body: &Body, fingertip: bool, far: bool) -> Option<(V, V)> {
    let off = if far { 1.5 } else { 0.0 };
    if has(pose, Prop::Wall) && !l.wall_behind {
        return Some(if fingertip {
            (V::new(l.wall_x - 9.0 + off, l.hand_y), V::new(1.0, -0.25))
        } else {
            (V::new(l.wall_x - 3.2, l.hand_y + 2.0 - off), V::new(0.12, -1.0))
        });
    }
    if has(pose, Prop::Counter) {
        return Some(match pose.base {
            Base::StepEdge => {
                let rail_y = -STEP_H - 92.0;
                let x = l.rail_post_x - 9.0 + off;
                if fingertip {
                    (V::new(x - 2.0, rail_y - 8.0), V::new(0.35, 1.0))
                } else {
                    (V::new(x - 3.0, rail_y - 2.6), V::new(0.85, 0.6))
                }
            }
            Base::Stair => {
                let x = body.torso.shoulder().x + 24.0 + off;
                let y = stair_rail_y(x);
                if fingertip {
                    (V::new(x - 2.0, y - 8.0), V::new(0.35, 1.0))
                } else {
                    (V::new(x - 3.0, y - 2.6), V::new(0.85, 0.6))
                }
            }
            _ => {
                if fingertip {
                    (
                        V::new(l.counter_x - 2.0 + off, l.counter_top - 7.4),
                        V::new(0.45, 1.0),
                    )
                } else {
                    (
                        V::new(l.counter_x + 2.0 + off, l.counter_top - 3.2),
                        V::new(1.0, 0.12),
                    )
                }
            }
        });
    }
    None
}

fn stair_rail_y(x: f64) -> f64 {
    // Parallel to the stair nosings, 90 cm above them.
    -2.0 * RISER - 90.0 - (x - 0.0) * RISER / TREAD
}

fn dumbbell_in_hand(arm: &Arm) -> Vec<Cmd> {
    // Seen from the side with its bar pointing forward.
    let c = arm.hand_centre().add(V::new(0.0, 1.0));
    let mut v = rect(c.x - 11.0, c.y - 1.3, c.x + 11.0, c.y + 1.3);
    v.extend(round_box(
        V::new(c.x - 13.0, c.y - 6.0),
        V::new(1.0, 0.0),
        5.0,
        12.0,
        1.5,
    ));
    v.extend(round_box(
        V::new(c.x + 8.0, c.y - 6.0),
        V::new(1.0, 0.0),
        5.0,
        12.0,
        1.5,
    ));
    v
}

/// The arms, the shapes in drawing order, for one position.
fn dress(pose: &Pose, body: &Body, l: &Layout) -> FrameGeo {
    let torso = body.torso;
    let sh = torso.shoulder();
    let far_sh = sh.add(V::new(1.5, -0.8));
    let down = torso.axis.mul(-1.0);
    let near_thigh = body.near.thigh_dir();
    let thigh_up = V::new(near_thigh.y, -near_thigh.x);
    let weight_on_thighs = has(pose, Prop::Dumbbell) && pose.hands != Hands::HoldingWeight;
    let plate_c = body.near.knee.sub(near_thigh.mul(11.0)).add(thigh_up.mul(13.5));
    let hang = |s: V, swing: f64| Arm::hang(s, down, swing, 18.0);
    // Arms swing with the opposite leg when walking.
    let walking_swing = |leg: &Leg| 0.8 * leg.thigh_dir().cross(down).clamp(-1.0, 1.0).asin().to_degrees();
    let stride = !body.far_mirrors && pose.other_leg.is_some() && pose.hands == Hands::None;
    let (near_arm, far_arm, near_weight, far_weight) = match pose.hands {
        Hands::None => {
            if pose.base == Base::Sled {
                let w = torso.hip.add(near_thigh.mul(12.0)).add(V::new(0.0, 3.0));
                (
                    Arm::reach(sh, w, near_thigh),
                    Arm::reach(far_sh, w.add(V::new(1.5, -0.5)), near_thigh),
                    false,
                    false,
                )
            } else if stride {
                (
                    hang(sh, walking_swing(&body.far)),
                    hang(far_sh, walking_swing(&body.near)),
                    false,
                    false,
                )
            } else {
                (hang(sh, 8.0), hang(far_sh, 12.0), false, false)
            }
        }
        Hands::Fingertip | Hands::OneHand | Hands::TwoHands => {
            let fingertip = pose.hands == Hands::Fingertip;
            let near = support_grip(pose, l, body, fingertip, false)
                .map_or_else(|| hang(sh, 8.0), |(w, d)| Arm::reach(sh, w, d));
            let far = if pose.hands == Hands::TwoHands {
                support_grip(pose, l, body, false, true)
                    .map_or_else(|| hang(far_sh, 10.0), |(w, d)| Arm::reach(far_sh, w, d))
            } else {
                hang(far_sh, 6.0)
            };
            (near, far, false, false)
        }
        Hands::OnKnees => {
            let (w, d) = if weight_on_thighs {
                (
                    plate_c.sub(near_thigh.mul(6.0)).add(thigh_up.mul(-4.5)),
                    near_thigh,
                )
            } else {
                (
                    body.near.knee.sub(near_thigh.mul(13.0)).add(thigh_up.mul(6.0)),
                    near_thigh.rot(12.0),
                )
            };
            (
                Arm::reach(sh, w, d),
                Arm::reach(far_sh, w.add(V::new(2.0, -0.8)), d),
                false,
                false,
            )
        }
        Hands::HoldingWeight => {
            let near = Arm::hang(sh, down, 2.0, 6.0);
            match support_grip(pose, l, body, false, true) {
                Some((w, d)) => (near, Arm::reach(far_sh, w, d), true, false),
                None => (near, Arm::hang(far_sh, down, 2.0, 6.0), true, true),
            }
        }
        Hands::OnChairSeat => {
            let w = V::new(l.seat_x + 5.0, l.seat_top - 7.5);
            let reachable = |s: V| w.sub(s).len() < (UPPER_ARM + FOREARM) * 0.98;
            let near = if reachable(sh) {
                Arm::reach(sh, w, V::new(0.2, 1.0))
            } else {
                hang(sh, 6.0)
            };
            let fw = w.add(V::new(2.0, -0.5));
            let far = if reachable(far_sh) {
                Arm::reach(far_sh, fw, V::new(0.2, 1.0))
            } else {
                hang(far_sh, 8.0)
            };
            (near, far, false, false)
        }
    };
    let mut layers = Vec::new();
    // Far side first.
    if far_weight {
        layers.push(Shape::both(dumbbell_in_hand(&far_arm), PROP_FILL, WEIGHT, 1.6).class("dumbbell"));
    }
    layers.extend(far_arm.shapes(FAR, false));
    layers.push(Shape::marker(Kind::FarLegStart));
    layers.extend(body.far.shapes(FAR));
    layers.push(Shape::marker(Kind::GroupEnd));
    if pose.base == Base::Sled {
        let t: V = l.plate_tangent.into();
        let n: V = l.plate_normal.into();
        let b = body.near.ball;
        let base = b.sub(t.mul(4.0)).add(n.mul(-0.8));
        layers.push(Shape::both(round_box(base, t, 46.0, 5.0, 2.0), PROP_FILL, PROP, 2.0).class("footplate"));
    }
    if has(pose, Prop::Backpack) {
        let a = torso.axis;
        let front = torso.front();
        let origin = torso.hip.at(a, front, 16.0, -8.0);
        layers.push(
            Shape::both(round_box(origin, a, 30.0, 12.0, 4.0), PROP_FILL, WEIGHT, 1.8).class("backpack"),
        );
    }
    layers.extend(torso.shapes());
    layers.push(Shape::marker(Kind::NearLegStart));
    layers.extend(body.near.shapes(NEAR));
    layers.push(Shape::marker(Kind::GroupEnd));
    if has(pose, Prop::Backpack) {
        let a = torso.axis;
        let front = torso.front();
        let strap = vec![
            Cmd::M(torso.hip.at(a, front, 44.0, -7.0)),
            Cmd::C(
                torso.hip.at(a, front, 50.0, -2.0),
                torso.hip.at(a, front, 49.0, 6.0),
                torso.hip.at(a, front, 40.0, 7.5),
            ),
        ];
        layers.push(Shape::stroke(strap, PROP, 2.2).class("strap"));
    }
    if weight_on_thighs {
        let mut plate = ellipse(plate_c, near_thigh, 8.5, 8.5);
        plate.extend(ellipse(plate_c, near_thigh, 2.4, 2.4));
        layers.push(Shape::both(plate, PROP_FILL, WEIGHT, 1.8).class("dumbbell"));
    }
    layers.extend(near_arm.shapes(NEAR, true));
    if near_weight {
        layers.push(Shape::both(dumbbell_in_hand(&near_arm), PROP_FILL, WEIGHT, 1.6).class("dumbbell"));
    }
    FrameGeo {
        near: body.near,
        far: body.far,
        layers,
    }
}

fn props(pose: &Pose, l: &Layout, bodies: &[Body]) -> Vec<PropGroup> {
    let mut out = Vec::new();
    let Some(start) = bodies.first() else { return out };
    let group = |class: &str, extra: String| format!("<g class=\"prop {class}\"{extra}>");
    if has(pose, Prop::Wall) {
        let x = l.wall_x;
        let top = -205.0;
        let (x0, x1) = if l.wall_behind {
            (x - 10.0, x)
        } else {
            (x, x + 10.0)
        };
        out.push(PropGroup {
            open: group("wall", format!(" data-wall-x=\"{}\"", num2(x))),
            shapes: vec![
                Shape::fill(rect(x0, top, x1, 0.0), PROP_FILL),
                Shape::stroke(line(V::new(x, top), V::new(x, 0.0)), PROP, 2.2),
            ],
        });
    }
    if has(pose, Prop::Chair) {
        let x = l.seat_x;
        let y = l.seat_top;
        let back_x = x - 17.0;
        let front_x = x + 27.0;
        let shapes = vec![
            Shape::stroke(
                line(V::new(back_x + 2.0, y + 3.5), V::new(back_x + 2.0, 0.0)),
                PROP,
                2.4,
            ),
            Shape::stroke(
                line(V::new(front_x - 2.0, y + 3.5), V::new(front_x - 2.0, 0.0)),
                PROP,
                2.4,
            ),
            Shape::stroke(
                line(V::new(back_x + 2.0, y + 1.0), V::new(back_x - 2.0, y - 44.0)),
                PROP,
                2.4,
            ),
            Shape::both(
                round_box(
                    V::new(back_x - 3.5, y - 44.0),
                    V::new(0.09, 1.0).norm(),
                    22.0,
                    4.0,
                    1.8,
                ),
                PROP_FILL,
                PROP,
                1.6,
            ),
            Shape::both(
                round_box(V::new(back_x, y), V::new(1.0, 0.0), front_x - back_x, 4.0, 1.8),
                PROP_FILL,
                PROP,
                1.8,
            ),
        ];
        out.push(PropGroup {
            open: group("chair", format!(" data-seat-top=\"{}\"", num2(y))),
            shapes,
        });
    }
    if has(pose, Prop::Step) {
        match pose.base {
            Base::Stair => {
                let mut outline = vec![V::new(-TREAD, 0.0)];
                for n in 1..=STEPS_IN_FLIGHT {
                    let x = (n as f64 - 2.0) * TREAD;
                    let y = -RISER * n as f64;
                    outline.push(V::new(x, y + RISER));
                    outline.push(V::new(x, y));
                }
                let end_x = (STEPS_IN_FLIGHT as f64 - 1.0) * TREAD + 14.0;
                outline.push(V::new(end_x, -RISER * STEPS_IN_FLIGHT as f64));
                outline.push(V::new(end_x, 0.0));
                let mut cmds = polyline(&outline);
                cmds.push(Cmd::Z);
                let mut shapes = vec![Shape::both(cmds, PROP_FILL, PROP, 2.0)];
                if has(pose, Prop::Counter) {
                    let x0 = -TREAD - 10.0;
                    let x1 = end_x;
                    shapes.push(Shape::stroke(
                        line(V::new(x0, stair_rail_y(x0)), V::new(x1, stair_rail_y(x1))),
                        PROP,
                        3.0,
                    ));
                    for x in [x0 + 14.0, x1 - 4.0] {
                        let foot = surface_y(Base::Stair, x);
                        shapes.push(Shape::stroke(
                            line(V::new(x, foot), V::new(x, stair_rail_y(x))),
                            PROP,
                            2.2,
                        ));
                    }
                }
                out.push(PropGroup {
                    open: group("stairs", format!(" data-step-top=\"{}\"", num2(-2.0 * RISER))),
                    shapes,
                });
            }
            _ => {
                let x0 = l.step_edge;
                let mut shapes = vec![Shape::both(
                    round_box(V::new(x0, -STEP_H), V::new(1.0, 0.0), 48.0, STEP_H, 1.5),
                    PROP_FILL,
                    PROP,
                    2.0,
                )];
                if pose.heel_below_step {
                    shapes.push(Shape {
                        dash: true,
                        ..Shape::stroke(
                            line(V::new(x0 - 24.0, -STEP_H), V::new(x0 - 1.5, -STEP_H)),
                            PROP,
                            1.2,
                        )
                    });
                }
                if has(pose, Prop::Counter) {
                    let x = l.rail_post_x;
                    let rail_y = -STEP_H - 92.0;
                    shapes.push(Shape::stroke(
                        line(V::new(x, -STEP_H), V::new(x, rail_y)),
                        PROP,
                        3.0,
                    ));
                    shapes.push(Shape::stroke(
                        line(V::new(x - 18.0, rail_y), V::new(x + 4.0, rail_y)),
                        PROP,
                        3.0,
                    ));
                }
                out.push(PropGroup {
                    open: group("step", format!(" data-step-top=\"{}\"", num2(-STEP_H))),
                    shapes,
                });
            }
        }
    } else if has(pose, Prop::Counter) {
        let x = l.counter_x;
        let top = l.counter_top;
        let shapes = vec![
            Shape::both(rect(x + 5.0, top + 4.0, x + 70.0, -9.0), PROP_FILL, PROP, 1.6),
            Shape::both(rect(x + 9.0, -9.0, x + 70.0, 0.0), PROP_FILL, PROP, 1.6),
            Shape::both(
                round_box(V::new(x - 1.0, top), V::new(1.0, 0.0), 72.0, 4.0, 1.5),
                PROP_FILL,
                PROP,
                1.8,
            ),
        ];
        out.push(PropGroup {
            open: group("counter", format!(" data-counter-top=\"{}\"", num2(top))),
            shapes,
        });
    }
    if has(pose, Prop::LegPressSled) {
        let hip = start.near.hip;
        let t: V = l.plate_tangent.into();
        let n: V = l.plate_normal.into();
        let rail = n.mul(-1.0); // from the person towards the plate
        let plate_start = start.near.ball;
        let rail_from = plate_start.sub(rail.mul(8.0)).add(t.mul(20.0));
        let rail_to = plate_start.add(rail.mul(60.0)).add(t.mul(20.0));
        let lean = start.torso.axis;
        let back_side = start.torso.front().mul(-1.0);
        let pad_origin = hip.at(lean, back_side, -4.0, 10.0);
        let seat = round_box(
            hip.add(V::new(-16.0, 8.0)),
            V::new(1.0, 0.0).rot(-8.0),
            34.0,
            6.0,
            2.5,
        );
        let back = round_box(pad_origin, lean, 62.0, 7.0, 3.0);
        let frame_pts = [hip.add(V::new(-8.0, 14.0)), V::new(hip.x - 8.0, 0.0)];
        let shapes = vec![
            Shape::stroke(line(rail_from, rail_to), PROP, 3.0),
            Shape::stroke(line(rail_to, V::new(rail_to.x, 0.0)), PROP, 2.6),
            Shape::stroke(polyline(&frame_pts), PROP, 2.6),
            Shape::stroke(
                line(
                    V::new(hip.x - 8.0, 0.0).add(V::new(0.0, -2.0)),
                    V::new(rail_to.x, -2.0),
                ),
                PROP,
                2.6,
            ),
            Shape::both(back, PROP_FILL, PROP, 1.8),
            Shape::both(seat, PROP_FILL, PROP, 1.8),
        ];
        out.push(PropGroup {
            open: group("leg-press", String::new()),
            shapes,
        });
    }
    out
}

fn arrowhead(tip: V, d: V) -> Shape {
    let n = d.cw();
    let cmds = vec![
        Cmd::M(tip),
        Cmd::L(tip.sub(d.mul(7.0)).add(n.mul(3.8))),
        Cmd::L(tip.sub(d.mul(5.6))),
        Cmd::L(tip.sub(d.mul(7.0)).sub(n.mul(3.8))),
        Cmd::Z,
    ];
    Shape::fill(cmds, ACCENT)
}

fn straight_arrow(from: V, to: V, both: bool) -> Vec<Shape> {
    let d = to.sub(from).norm();
    let mut v = vec![Shape::stroke(
        line(from.add(d.mul(if both { 4.0 } else { 0.0 })), to.sub(d.mul(4.0))),
        ACCENT,
        2.4,
    )];
    v.push(arrowhead(to, d));
    if both {
        v.push(arrowhead(from, d.mul(-1.0)));
    }
    v
}

fn min_len(from: V, to: V, len: f64, fallback: V) -> V {
    let d = to.sub(from);
    if d.len() < len {
        let u = if d.len() < 1e-3 { fallback } else { d.norm() };
        from.add(u.mul(len))
    } else {
        to
    }
}

fn arrow_shapes(a: Arrow, bodies: &[Body], l: &Layout) -> Option<Vec<Shape>> {
    let s = bodies.first()?;
    let e = bodies.last()?;
    let both = a.both_ways;
    Some(match a.motion {
        Motion::HeelUp | Motion::HeelDown | Motion::Hop => {
            let up = a.motion != Motion::HeelDown;
            let x = s.near.heel.x.min(e.near.heel.x) - 11.0;
            let (y0, y1) = if a.motion == Motion::Hop {
                (s.near.lowest() - 4.0, s.near.lowest() - 22.0)
            } else {
                let (lo, hi) = (s.near.heel.y.max(e.near.heel.y), s.near.heel.y.min(e.near.heel.y));
                let hi = hi.min(lo - 14.0);
                if up { (lo, hi) } else { (hi, lo) }
            };
            straight_arrow(V::new(x, y0), V::new(x, y1), both)
        }
        Motion::ToesUp => {
            let t0 = s.near.toe_tip();
            let x = t0.x.max(e.near.toe_tip().x) + 7.0;
            straight_arrow(V::new(x, t0.y - 2.0), V::new(x, t0.y - 18.0), both)
        }
        Motion::AnklePump => {
            let c = s.near.ankle;
            let r = 27.0;
            let ang = |leg: &Leg| {
                leg.toe_tip()
                    .sub(leg.ankle)
                    .y
                    .atan2(leg.toe_tip().sub(leg.ankle).x)
                    .to_degrees()
            };
            let (a0, a1) = (ang(&s.near), ang(&e.near));
            let mut cmds = vec![Cmd::M(c.add(dir(a0 + 4.0_f64.copysign(a1 - a0)).mul(r)))];
            cmds.extend(arc(
                c,
                r,
                a0 + 4.0_f64.copysign(a1 - a0),
                a1 - 4.0_f64.copysign(a1 - a0),
                2,
            ));
            let tip1 = c.add(dir(a1).mul(r));
            let d1 = dir(a1).cw().mul((a1 - a0).signum());
            let tip0 = c.add(dir(a0).mul(r));
            let d0 = dir(a0).cw().mul(-(a1 - a0).signum());
            let mut v = vec![Shape::stroke(cmds, ACCENT, 2.4), arrowhead(tip1, d1)];
            if both {
                v.push(arrowhead(tip0, d0));
            }
            v
        }
        Motion::StandUp => {
            let from = s.torso.hip.add(V::new(-6.0, -30.0));
            let to = e.torso.hip.add(V::new(-22.0, -10.0));
            straight_arrow(from, to, both)
        }
        Motion::Forward => {
            let c = s.torso.p(36.0, 0.0).x.max(e.torso.p(36.0, 0.0).x) + 24.0;
            let y = s.torso.p(36.0, 0.0).y;
            straight_arrow(V::new(c, y), V::new(c + 18.0, y), both)
        }
        Motion::Lean => {
            let from = s.torso.p(28.0, -22.0);
            let to = min_len(
                from,
                e.torso.p(28.0, -22.0).add(e.torso.hip.sub(s.torso.hip)),
                16.0,
                V::new(1.0, 0.0),
            );
            straight_arrow(from, to, both)
        }
        Motion::Press => {
            let n: V = l.plate_normal.into();
            let t: V = l.plate_tangent.into();
            let from = s.near.ball.add(t.mul(48.0)).sub(n.mul(4.0));
            straight_arrow(from, from.sub(n.mul(18.0)), both)
        }
    })
}

// ---------------------------------------------------------------------------------------------
// Output
// ---------------------------------------------------------------------------------------------

/// World-to-viewBox mapping: constant scale unless the scene would not fit.
struct Fit {
    scale: f64,
    dx: f64,
}

impl Fit {
    fn of(scene: &Scene) -> Fit {
        let mut lo = V::new(f64::MAX, f64::MAX);
        let mut hi = V::new(f64::MIN, f64::MIN);
        let mut add = |p: V| {
            lo = V::new(lo.x.min(p.x), lo.y.min(p.y));
            hi = V::new(hi.x.max(p.x), hi.y.max(p.y));
        };
        let all_props = scene.props.iter().flat_map(|g| g.shapes.iter());
        let figure = scene.frames.iter().flat_map(|f| f.layers.iter());
        let arrow = scene.arrow.iter().flat_map(|a| a.iter());
        for shape in all_props.chain(figure).chain(arrow) {
            let pad = shape.stroke.map_or(0.0, |(_, w)| w / 2.0) + if shape.halo { 1.5 } else { 0.0 };
            for p in shape.cmds.iter().flat_map(cmd_points) {
                add(p.add(V::new(pad, pad)));
                add(p.sub(V::new(pad, pad)));
            }
        }
        if lo.x > hi.x {
            return Fit {
                scale: 1.0,
                dx: WIDTH / 2.0,
            };
        }
        let wide = (WIDTH - 2.0 * MARGIN) / (hi.x - lo.x).max(1.0);
        let tall = (GROUND_Y - MARGIN) / (-lo.y).max(1.0);
        let below = (HEIGHT - GROUND_Y - 2.0) / hi.y.max(1e-3);
        let scale = wide.min(tall).min(below).min(1.0);
        let cx = (lo.x + hi.x) / 2.0;
        Fit {
            scale,
            dx: WIDTH / 2.0 - cx * scale,
        }
    }

    fn raw(&self, p: V) -> V {
        V::new(p.x * self.scale + self.dx, GROUND_Y + p.y * self.scale)
    }

    /// World x that maps to viewBox x = 0, negated (for the ground line's ends).
    fn offset_x_world(&self) -> f64 {
        self.dx / self.scale
    }
}

fn num(v: f64) -> String {
    fmt_dec(v, 1)
}

fn num2(v: f64) -> String {
    fmt_dec(v, 2)
}

fn fmt_dec(v: f64, places: i32) -> String {
    let f = 10f64.powi(places);
    let r = (v * f).round() / f;
    let r = if r == 0.0 { 0.0 } else { r };
    let s = format!("{r:.prec$}", prec = places.max(0) as usize);
    let s = if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    };
    if s == "-0" { "0".to_string() } else { s }
}

fn path_raw(cmds: &[Cmd]) -> String {
    let mut s = String::new();
    for c in cmds {
        match *c {
            Cmd::M(a) => {
                let _ = write!(s, "M{} {}", num(a.x), num(a.y));
            }
            Cmd::L(a) => {
                let _ = write!(s, "L{} {}", num(a.x), num(a.y));
            }
            Cmd::C(a, b, d) => {
                let _ = write!(
                    s,
                    "C{} {} {} {} {} {}",
                    num(a.x),
                    num(a.y),
                    num(b.x),
                    num(b.y),
                    num(d.x),
                    num(d.y)
                );
            }
            Cmd::Z => s.push('Z'),
        }
    }
    s
}

fn path_d(cmds: &[Cmd], fit: &Fit) -> String {
    let mapped: Vec<Cmd> = cmds
        .iter()
        .map(|c| match *c {
            Cmd::M(a) => Cmd::M(fit.raw(a)),
            Cmd::L(a) => Cmd::L(fit.raw(a)),
            Cmd::C(a, b, d) => Cmd::C(fit.raw(a), fit.raw(b), fit.raw(d)),
            Cmd::Z => Cmd::Z,
        })
        .collect();
    path_raw(&mapped)
}

fn paint(shape: &Shape, fit: &Fit) -> String {
    let mut s = String::new();
    if !shape.class.is_empty() {
        let _ = write!(s, " class=\"{}\"", shape.class);
    }
    match shape.fill {
        Some(f) => {
            let _ = write!(s, " fill=\"{f}\"");
        }
        None => s.push_str(" fill=\"none\""),
    }
    if let Some((c, w)) = shape.stroke {
        let _ = write!(
            s,
            " stroke=\"{c}\" stroke-width=\"{}\"",
            num(w * fit.scale.max(0.6))
        );
        if shape.dash {
            s.push_str(" stroke-dasharray=\"3 3\"");
        }
    } else if shape.halo {
        let _ = write!(
            s,
            " stroke=\"#fff\" stroke-width=\"{}\" paint-order=\"stroke\"",
            num(2.6 * fit.scale)
        );
    }
    s
}

fn emit_static(out: &mut String, shape: &Shape, fit: &Fit) {
    if shape.kind != Kind::Draw {
        return;
    }
    let _ = write!(
        out,
        "<path d=\"{}\"{}/>",
        path_d(&shape.cmds, fit),
        paint(shape, fit)
    );
}

fn emit_shape(out: &mut String, shape: &Shape, per_frame: &[&Shape], fit: &Fit, timeline: Option<&Timeline>) {
    let d = path_d(&shape.cmds, fit);
    let anim = timeline.and_then(|t| {
        let ds: Vec<String> = per_frame.iter().map(|s| path_d(&s.cmds, fit)).collect();
        if ds.iter().all(|x| *x == d) || ds.len() != STEPS + 1 {
            return None;
        }
        let values: Vec<&str> = t.frames.iter().filter_map(|i| ds.get(*i).map(String::as_str)).collect();
        Some(format!(
            "<animate attributeName=\"d\" dur=\"{}s\" repeatCount=\"indefinite\" keyTimes=\"{}\" values=\"{}\"/>",
            num2(t.cycle),
            t.key_times,
            values.join(";")
        ))
    });
    match anim {
        Some(a) => {
            let _ = write!(out, "<path d=\"{d}\"{}>{a}</path>", paint(shape, fit));
        }
        None => {
            let _ = write!(out, "<path d=\"{d}\"{}/>", paint(shape, fit));
        }
    }
}

fn leg_group(leg: &Leg, class: &str, fit: &Fit) -> String {
    let p = |v: V| {
        let m = fit.raw(v);
        format!("{},{}", num2(m.x), num2(m.y))
    };
    format!(
        "<g class=\"{class}\" data-hip=\"{}\" data-knee=\"{}\" data-ankle=\"{}\" data-heel=\"{}\" data-ball=\"{}\" data-toe=\"{}\">",
        p(leg.hip),
        p(leg.knee),
        p(leg.ankle),
        p(leg.heel),
        p(leg.ball),
        p(leg.toe_tip())
    )
}

/// The animation's key frames: which sampled position at which fraction of the cycle.
struct Timeline {
    cycle: f64,
    key_times: String,
    frames: Vec<usize>,
}

impl Timeline {
    fn of(tempo: (f64, f64, f64)) -> Option<Timeline> {
        let clean = |v: f64| if v.is_finite() { v.max(0.0) } else { 0.0 };
        let up = clean(tempo.0).max(0.4);
        let hold = clean(tempo.1);
        let down = clean(tempo.2).max(0.4);
        let rest = 1.0;
        let cycle = up + hold + down + rest;
        let mut keys: Vec<(f64, usize)> = Vec::new();
        for i in 0..=STEPS {
            keys.push((up * i as f64 / STEPS as f64, i));
        }
        if hold > 0.0 {
            keys.push((up + hold, STEPS));
        }
        for i in (0..STEPS).rev() {
            keys.push((up + hold + down * (STEPS - i) as f64 / STEPS as f64, i));
        }
        keys.push((cycle, 0));
        let times: Vec<String> = keys.iter().map(|(t, _)| fmt_dec(t / cycle, 4)).collect();
        Some(Timeline {
            cycle,
            key_times: times.join(";"),
            frames: keys.iter().map(|(_, i)| *i).collect(),
        })
    }
}

fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

fn fnv(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

// ---------------------------------------------------------------------------------------------
// Tests: `rustc --edition 2021 --test illustration.rs -o /tmp/illus_test && /tmp/illus_test`
// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;

    /// One catalogue exercise's drawing data, from the shipped catalogue and poses.
    struct PoseEntry {
        id: &'static str,
        name: &'static str,
        alt: &'static str,
        tempo: (f64, f64, f64),
        knee_angle_deg: Option<f64>,
        pose: Pose,
    }

    fn leak(s: &str) -> &'static str {
        Box::leak(s.to_owned().into_boxed_str())
    }

    fn all_poses() -> Vec<PoseEntry> {
        let catalogue = crate::domain::catalogue::Catalogue::embedded().unwrap_or_else(|e| panic!("{e}"));
        catalogue
            .all()
            .iter()
            .filter_map(|x| {
                let drawn = x.pose.clone()?;
                Some(PoseEntry {
                    id: leak(&x.id),
                    name: leak(&x.name),
                    alt: leak(&drawn.alt),
                    tempo: crate::domain::catalogue::drawing_tempo(x),
                    knee_angle_deg: x.knee_angle_deg.map(f64::from),
                    pose: drawn.pose,
                })
            })
            .collect()
    }

    const FRAMES: [Frame; 3] = [Frame::Start, Frame::End, Frame::Animated];

    fn svg_of(e: &PoseEntry, frame: Frame) -> String {
        render(&e.pose, frame, e.name, e.alt, e.tempo)
    }

    /// The value of `name="…"` in the first element whose text starts with `open`.
    fn attr<'a>(svg: &'a str, open: &str, name: &str) -> Option<&'a str> {
        let start = svg.find(open)?;
        let tag = svg.get(start..)?.split('>').next()?;
        let key = format!(" {name}=\"");
        let at = tag.find(&key)? + key.len();
        tag.get(at..)?.split('"').next()
    }

    fn point(s: &str) -> Option<(f64, f64)> {
        let (x, y) = s.split_once(',')?;
        Some((x.parse().ok()?, y.parse().ok()?))
    }

    fn leg_points(svg: &str, class: &str) -> Option<[(f64, f64); 6]> {
        let open = format!("<g class=\"{class}\"");
        let get = |n: &str| attr(svg, &open, n).and_then(point);
        Some([
            get("data-hip")?,
            get("data-knee")?,
            get("data-ankle")?,
            get("data-heel")?,
            get("data-ball")?,
            get("data-toe")?,
        ])
    }

    fn numbers(s: &str) -> Vec<f64> {
        s.split(|c: char| !(c.is_ascii_digit() || c == '.' || c == '-'))
            .filter(|t| !t.is_empty())
            .filter_map(|t| t.parse().ok())
            .collect()
    }

    /// Every coordinate pair of every path (and of every animated path value).
    fn all_points(svg: &str) -> Vec<(f64, f64)> {
        let mut pts = Vec::new();
        for key in [" d=\"", " values=\""] {
            for chunk in svg.split(key).skip(1) {
                let body = chunk.split('"').next().unwrap_or("");
                let ns = numbers(body);
                pts.extend(ns.chunks(2).filter_map(|c| match c {
                    [x, y] => Some((*x, *y)),
                    _ => None,
                }));
            }
        }
        pts
    }

    fn balanced(svg: &str) -> Result<(), String> {
        let mut stack: Vec<String> = Vec::new();
        let mut rest = svg;
        while let Some(i) = rest.find('<') {
            let after = rest.get(i + 1..).unwrap_or("");
            let end = after.find('>').ok_or("unclosed tag")?;
            let tag = after.get(..end).unwrap_or("");
            if let Some(name) = tag.strip_prefix('/') {
                match stack.pop() {
                    Some(open) if open == name => {}
                    other => return Err(format!("</{name}> closes {other:?}")),
                }
            } else if !tag.ends_with('/') {
                let name = tag.split_whitespace().next().unwrap_or("").to_string();
                stack.push(name);
            }
            rest = after.get(end + 1..).unwrap_or("");
        }
        if stack.is_empty() {
            Ok(())
        } else {
            Err(format!("unclosed {stack:?}"))
        }
    }

    #[test]
    fn every_pose_renders_well_formed_with_title_and_desc() {
        let all = all_poses();
        assert_eq!(all.len(), 30);
        for e in &all {
            for frame in FRAMES {
                let svg = svg_of(e, frame);
                assert!(
                    svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 320 240\""),
                    "{}",
                    e.id
                );
                assert!(svg.ends_with("</svg>"));
                assert!(svg.contains("role=\"img\""));
                assert!(svg.contains(&format!(">{}</title>", escape(e.name))), "{}", e.id);
                assert!(svg.contains(&format!(">{}</desc>", escape(e.alt))), "{}", e.id);
                if let Err(err) = balanced(&svg) {
                    panic!("{} {frame:?}: {err}", e.id);
                }
                assert!(!svg.contains("NaN") && !svg.contains("inf"), "{}", e.id);
            }
        }
    }

    #[test]
    fn drawn_knee_angle_matches_the_pose() {
        for e in all_poses() {
            for (frame, joints) in [(Frame::Start, e.pose.start), (Frame::End, e.pose.end)] {
                let svg = svg_of(&e, frame);
                let Some([hip, knee, ankle, ..]) = leg_points(&svg, "leg near") else {
                    panic!("{}: no leg points", e.id)
                };
                let drawn = knee_flexion_deg(hip, knee, ankle);
                assert!(
                    (drawn - joints.knee).abs() < 1.0,
                    "{} {frame:?}: drawn {drawn:.2} vs {}",
                    e.id,
                    joints.knee
                );
                // The knee bends backward: the knee lies in front of the hip-ankle line.
                if joints.knee > 2.0 {
                    let c = (knee.0 - hip.0) * (ankle.1 - hip.1) - (knee.1 - hip.1) * (ankle.0 - hip.0);
                    assert!(c > 0.0, "{} {frame:?}: knee bends the wrong way", e.id);
                }
            }
            if let Some(k) = e.knee_angle_deg {
                assert!(
                    (e.pose.start.knee - k).abs() < 1.0,
                    "{}: catalogue knee {k}",
                    e.id
                );
            }
        }
    }

    #[test]
    fn everything_lies_inside_the_view_box() {
        for e in all_poses() {
            for frame in FRAMES {
                let svg = svg_of(&e, frame);
                let pts = all_points(&svg);
                assert!(pts.len() > 50, "{}", e.id);
                for (x, y) in pts {
                    assert!(
                        (0.0..=WIDTH).contains(&x) && (0.0..=HEIGHT).contains(&y),
                        "{} {frame:?}: ({x}, {y}) outside",
                        e.id
                    );
                }
            }
        }
    }

    #[test]
    fn feet_rest_on_their_support() {
        for e in all_poses() {
            let svg = svg_of(&e, Frame::Start);
            let Some([_, _, _, heel, ball, toe]) = leg_points(&svg, "leg near") else {
                panic!("{}", e.id)
            };
            let low = heel.1.max(ball.1).max(toe.1);
            let support = match e.pose.base {
                Base::StepEdge => {
                    attr(&svg, "<g class=\"prop step\"", "data-step-top").and_then(|v| v.parse::<f64>().ok())
                }
                Base::Stair | Base::Sled => None,
                _ => Some(0.0),
            };
            if let Some(top) = support {
                let top_y = GROUND_Y + top; // scale is 1 for every catalogue pose
                if e.pose.base == Base::StepEdge {
                    assert!(
                        (ball.1 - top_y).abs() < 0.6,
                        "{}: ball {} vs step {top_y}",
                        e.id,
                        ball.1
                    );
                } else {
                    // The heel's rounded back can be the lowest point when the toes are up.
                    assert!(
                        low < top_y + 0.6 && low > top_y - 2.5,
                        "{}: foot {low} vs floor {top_y}",
                        e.id
                    );
                }
            }
            // Feet point forward (the way the figure faces); on the sled they point up the plate.
            assert!(
                e.pose.base == Base::Sled || toe.0 > heel.0,
                "{}: foot points backward",
                e.id
            );
        }
    }

    #[test]
    fn heel_sinks_below_the_step_where_it_should() {
        for e in all_poses().iter().filter(|e| e.pose.heel_below_step) {
            let svg = svg_of(e, Frame::Start);
            let top =
                attr(&svg, "<g class=\"prop step\"", "data-step-top").and_then(|v| v.parse::<f64>().ok());
            let Some(top) = top else {
                panic!("{}: no step", e.id)
            };
            let Some([_, _, _, heel, ball, _]) = leg_points(&svg, "leg near") else {
                panic!("{}", e.id)
            };
            assert!(
                heel.1 > GROUND_Y + top + 2.0,
                "{}: heel {} not below step {}",
                e.id,
                heel.1,
                GROUND_Y + top
            );
            assert!(
                (ball.1 - (GROUND_Y + top)).abs() < 0.6,
                "{}: ball off the step",
                e.id
            );
            let end = svg_of(e, Frame::End);
            let Some([_, _, _, heel_end, ..]) = leg_points(&end, "leg near") else {
                panic!("{}", e.id)
            };
            assert!(
                heel_end.1 < GROUND_Y + top,
                "{}: heel not raised at the end",
                e.id
            );
        }
    }

    #[test]
    fn seated_hips_are_on_the_chair() {
        for e in all_poses().iter().filter(|e| e.pose.base == Base::Seat) {
            let svg = svg_of(e, Frame::Start);
            let seat =
                attr(&svg, "<g class=\"prop chair\"", "data-seat-top").and_then(|v| v.parse::<f64>().ok());
            let Some(seat) = seat else {
                panic!("{}: no chair", e.id)
            };
            let Some([hip, ..]) = leg_points(&svg, "leg near") else {
                panic!("{}", e.id)
            };
            assert!((GROUND_Y + seat - hip.1 - SEAT_BELOW_HIP).abs() < 0.5, "{}", e.id);
        }
    }

    #[test]
    fn output_is_deterministic_and_animated_when_asked() {
        for e in all_poses() {
            assert_eq!(svg_of(&e, Frame::Animated), svg_of(&e, Frame::Animated));
            let moves = e.pose.start != e.pose.end || e.pose.other_leg.is_some_and(|o| o.start != o.end);
            assert_eq!(
                svg_of(&e, Frame::Animated).contains("<animate "),
                moves,
                "{}",
                e.id
            );
            assert!(!svg_of(&e, Frame::Start).contains("<animate"));
        }
    }

    #[test]
    fn numbers_have_at_most_two_decimals() {
        for e in all_poses() {
            let svg = svg_of(&e, Frame::Animated);
            for t in svg
                .split(|c: char| !(c.is_ascii_digit() || c == '.'))
                .filter(|t| t.contains('.'))
            {
                let decimals = t.split('.').nth(1).map_or(0, str::len);
                // keyTimes carry up to four.
                assert!(decimals <= 4, "{}: {t}", e.id);
            }
            let d = svg
                .split(" d=\"")
                .nth(1)
                .unwrap_or("")
                .split('"')
                .next()
                .unwrap_or("");
            assert!(
                numbers(d)
                    .iter()
                    .all(|n| ((n * 10.0).round() - n * 10.0).abs() < 1e-6),
                "{}",
                e.id
            );
        }
    }

    #[test]
    fn knee_flexion_helper() {
        assert!((knee_flexion_deg((0.0, 0.0), (0.0, 10.0), (0.0, 20.0))).abs() < 1e-9);
        assert!((knee_flexion_deg((0.0, 0.0), (10.0, 0.0), (10.0, 10.0)) - 90.0).abs() < 1e-9);
    }

    #[test]
    fn backpack_sits_on_the_back() {
        let mut pose = all_poses()
            .into_iter()
            .find(|e| e.id == "standing-heel-raise")
            .map(|e| e.pose);
        if let Some(p) = pose.as_mut() {
            p.props.push(Prop::Backpack);
            let svg = render(p, Frame::Start, "t", "a", (1.0, 1.0, 1.0));
            assert!(svg.contains("class=\"backpack\""));
            assert!(balanced(&svg).is_ok());
        } else {
            panic!("no standing-heel-raise");
        }
    }

    #[test]
    fn escapes_text() {
        let e = all_poses().into_iter().next();
        let Some(e) = e else { panic!("no poses") };
        let svg = render(&e.pose, Frame::Start, "a <b> & \"c\"", "d'e", (1.0, 0.0, 1.0));
        assert!(svg.contains("a &lt;b&gt; &amp; &quot;c&quot;") && svg.contains("d&#39;e"));
    }
}
