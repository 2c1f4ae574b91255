"""ColorCube: the seed's cube shapes, slicing, bias, permute, assign and validation."""

import numpy as np
import pytest

from ex_color.data import ColorCube, arange_cyclic


def make_hd():
    cube = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 240), s=np.linspace(0, 1, 48), v=np.linspace(0, 1, 48)
    )
    return cube[::2, ::2, ::2]


def test_seed_cube_shapes():
    hsv_cube = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 24), s=np.linspace(0, 1, 4), v=np.linspace(0, 1, 8)
    ).permute('svh')
    assert hsv_cube.shape == (4, 8, 24)
    assert hsv_cube.space == 'svh' and hsv_cube.canonical_space == 'hsv'
    assert hsv_cube.rgb_grid.shape == (4, 8, 24, 3)

    hd = make_hd()
    assert hd.shape == (120, 24, 24)
    # Every second of 48 points ends at index 46: 46/47, not 1 (spec 19.21).
    assert hd.coordinates[1][-1] == pytest.approx(46 / 47)

    rgb = ColorCube.from_rgb(*[np.linspace(0, 1, 20)] * 3)
    assert rgb.shape == (20, 20, 20) and rgb.space == 'rgb'


def test_seed_negative_step_slices():
    hd = make_hd()
    # 24 // -5 = -5: v indices 23, 18, 13, 8, 3.
    a = hd.permute('hsv')[:, -1:, :: (hd.shape[2] // -5)]
    assert a.shape == (120, 1, 5)
    assert a.coordinates[2] == pytest.approx(hd.coordinates[2][[23, 18, 13, 8, 3]])
    # -(120 // -3) = 40: hue indices 0, 40, 80 on the last axis of the svh cube.
    b = hd.permute('svh')[:, -1:, :: -(hd.shape[0] // -3)]
    assert b.shape == (24, 1, 3)
    assert b.coordinates[2] == pytest.approx(hd.coordinates[0][[0, 40, 80]])
    assert b['color'].shape == (24, 1, 3, 3)


def test_from_rgb_places_colours_ij():
    r, g, b = np.linspace(0, 1, 3), np.linspace(0, 1, 4), np.linspace(0, 1, 5)
    cube = ColorCube.from_rgb(r, g, b)
    assert cube['color'][2, 1, 4] == pytest.approx([1.0, 1 / 3, 1.0])
    assert np.all(cube.bias == 1)


def test_from_hsv_bias_values():
    # n_h = 6 hues, n_s = 3 saturations, n_v = 2 values (0 and 1).
    cube = ColorCube.from_hsv(h=arange_cyclic(step_size=1 / 6), s=[0.0, 0.5, 1.0], v=[0.0, 1.0])
    bias = cube.bias
    # vibrant (S=1, V=1): (1/18)(0) + (1/6)(0)(1) + 1*1 = 1
    assert bias[0, 2, 1] == pytest.approx(1.0)
    # white (S=0, V=1): (1/18)(0) + (1/6)(1)(1) + 0 = 1/6 = 1/n_h
    assert bias[3, 0, 1] == pytest.approx(1 / 6)
    # black (V=0, any S): (1/18)(1) + 0 + 0 = 1/18 = 1/(n_s n_h)
    assert bias[5, 1, 0] == pytest.approx(1 / 18)
    # half-saturated bright: (1/6)(0.5)(1) + 0.5*1 = 1/12 + 1/2 = 7/12
    assert bias[1, 1, 1] == pytest.approx(7 / 12)


def test_from_hsv_wraps_hue_and_clips_sv():
    cube = ColorCube.from_hsv(h=[1.0, -0.5], s=[1.0 + 1e-12], v=[1.0, -1e-12])
    assert cube['color'][0, 0, 0] == pytest.approx([1.0, 0.0, 0.0])  # h=1 -> red
    assert cube['color'][1, 0, 0] == pytest.approx([0.0, 1.0, 1.0])  # h=-0.5 -> cyan
    assert cube['color'][0, 0, 1] == pytest.approx([0.0, 0.0, 0.0])
    assert cube.coordinates[0] == pytest.approx([1.0, -0.5])  # coordinates kept as given


def test_permute_moves_elements_and_keeps_trailing_axes():
    cube = ColorCube.from_hsv(
        h=arange_cyclic(step_size=1 / 4), s=np.linspace(0, 1, 3), v=np.linspace(0, 1, 2)
    )
    latents = np.arange(4 * 3 * 2 * 5).reshape(4, 3, 2, 5)
    cube = cube.assign(latents=latents, mse=np.arange(24.0).reshape(4, 3, 2))
    svh = cube.permute('svh')
    assert svh.shape == (3, 2, 4)
    assert svh['latents'].shape == (3, 2, 4, 5)
    # Element at (h=3, s=1, v=0) moves to (s=1, v=0, h=3).
    assert np.array_equal(svh['latents'][1, 0, 3], latents[3, 1, 0])
    assert svh['color'][1, 0, 3] == pytest.approx(cube['color'][3, 1, 0])
    assert svh['mse'][2, 1, 0] == cube['mse'][0, 2, 1]
    assert np.array_equal(svh.coordinates[2], cube.coordinates[0])
    # Round trip restores the original layout.
    assert np.array_equal(svh.permute('hsv')['latents'], latents)


def test_permute_and_slicing_keep_subclass_and_views():
    class MyCube(ColorCube):
        pass

    cube = MyCube.from_rgb(*[np.linspace(0, 1, 4)] * 3)
    assert type(cube.permute('bgr')) is MyCube
    sub = cube[1:, ::-1, ::2]
    assert type(sub) is MyCube
    assert np.shares_memory(sub['color'], cube['color'])  # a view, not a copy


def test_integer_indices_keep_the_axis_and_index_arrays_are_per_axis():
    cube = ColorCube.from_rgb(np.linspace(0, 1, 3), np.linspace(0, 1, 4), np.linspace(0, 1, 5))
    one = cube[-1, :, 2]
    assert one.shape == (1, 4, 1)
    assert one['color'][0, 3, 0] == pytest.approx([1.0, 1.0, 0.5])
    # Outer indexing: 2 x 4 x 2, not numpy's broadcast of the two arrays.
    picked = cube[[0, 2], :, np.array([1, 3])]
    assert picked.shape == (2, 4, 2)
    assert picked['color'][1, 0, 1] == pytest.approx([1.0, 0.0, 0.75])
    mask = cube[:, np.array([True, False, False, True]), :]
    assert mask.shape == (3, 2, 5)


def test_bad_indices():
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, 3)] * 3)
    with pytest.raises(ValueError, match='exactly 3 parts'):
        cube[::2, ::2]
    with pytest.raises(IndexError, match=r"axis 1 \('g'\)"):
        cube[:, 3, :]
    with pytest.raises(TypeError, match='not supported'):
        cube[..., 0, 0]
    with pytest.raises(KeyError, match="no variable 'colour'"):
        cube['colour']


def test_assign_returns_new_cube_and_validates():
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, 2)] * 3)
    red = cube.assign('red', np.zeros((2, 2, 2)))
    both = cube.assign(red=np.zeros((2, 2, 2)), blue=np.ones((2, 2, 2, 1)))
    assert 'red' in red and 'red' not in cube
    assert set(both.vars) == {'color', 'bias', 'red', 'blue'}
    with pytest.raises(ValueError, match=r"variable 'red': leading shape must be the grid shape \(2, 2, 2\)"):
        cube.assign(red=np.zeros((2, 2)))
    with pytest.raises(ValueError, match="variable 'red'"):
        cube.assign('red', np.zeros((2, 3, 2)))
    with pytest.raises(TypeError, match='give a name'):
        cube.assign()


def test_stored_arrays_are_read_only():
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, 2)] * 3)
    src = np.zeros((2, 2, 2))
    cube = cube.assign(x=src)
    with pytest.raises(ValueError, match='read-only'):
        cube['x'][0, 0, 0] = 1
    src[0, 0, 0] = 1  # the caller's own array stays writable


@pytest.mark.parametrize(
    ('bad', 'message'),
    [
        (np.nan, r"'color' has NaN at index \(1, 0, 1, 2\)"),
        (1.5, r"'color' is outside \[0, 1\] at index \(1, 0, 1, 2\)"),
    ],
)
def test_bad_colours_rejected(bad, message):
    cube = ColorCube.from_rgb(*[np.linspace(0, 1, 2)] * 3)
    color = np.array(cube['color'])
    color[1, 0, 1, 2] = bad
    with pytest.raises(ValueError, match=message):
        cube.assign(color=color)
    with pytest.raises(ValueError, match="'color' is outside"):
        ColorCube.from_rgb([0.0, 1.1], [0.0], [0.0])


def test_constructor_validation():
    color = np.zeros((2, 2, 2, 3))
    coords = [np.arange(2.0)] * 3
    with pytest.raises(ValueError, match='permutation'):
        ColorCube({'color': color, 'bias': np.ones((2, 2, 2))}, coords, 'rgx', 'rgb')
    with pytest.raises(ValueError, match='permutation'):
        ColorCube.from_rgb(*coords).permute('hsv')
    with pytest.raises(ValueError, match="'bias' variable is required"):
        ColorCube({'color': color}, coords, 'rgb', 'rgb')
    with pytest.raises(ValueError, match='canonical_space'):
        ColorCube({'color': color, 'bias': np.ones((2, 2, 2))}, coords, 'rgb', 'lab')
