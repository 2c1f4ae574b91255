"""TeX to MathML for the site (`utils.nb.site_math`): the project's formulas, errors, well-formedness.

Expected MathML is written out by hand from what TeX typesets: a letter is an identifier, a digit
run a number, ``-`` the minus sign U+2212, and a script binds to the one atom before it, so in
``(1 - q)^s`` the ``s`` sits on the closing parenthesis, as it does in TeX.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import given
from hypothesis import strategies as st

from utils.nb.site_math import TexError, tex_to_mathml

OPEN, CLOSE = '<mo stretchy="false">(</mo>', '<mo stretchy="false">)</mo>'
E0 = '<msub><mi>e</mi><mn>0</mn></msub>'


def body(tex: str) -> str:
    """The MathML of `tex` without its ``<math>``/``<semantics>`` wrapper and TeX annotation."""
    out = tex_to_mathml(tex)
    prefix = '<math><semantics>'
    assert out.startswith(prefix) and out.endswith('</semantics></math>'), out
    return out[len(prefix) : out.index('<annotation')]


@pytest.mark.parametrize(
    ('tex', 'mathml'),
    [
        # the README's anchor direction
        ('e_0', E0),
        ('R^2', '<msup><mi>R</mi><mn>2</mn></msup>'),
        (
            '(1,0,0,0,0)',
            f'<mrow>{OPEN}<mn>1</mn>' + '<mo>,</mo><mn>0</mn>' * 4 + f'{CLOSE}</mrow>',
        ),
        # Ex 2.9's unitarity term: the square sits on the parenthesis
        (
            r'(\lVert z \rVert - 1)^2',
            f'<mrow>{OPEN}<mo stretchy="false">‖</mo><mi>z</mi><mo stretchy="false">‖</mo>'
            f'<mo>−</mo><mn>1</mn><msup>{CLOSE}<mn>2</mn></msup></mrow>',
        ),
        # Ex 2.10.2's similarity: an upright name with both scripts, the subscript in italic letters
        (
            r'\mathrm{sim}_{red}^3',
            '<msubsup><mi>sim</mi><mrow><mi>r</mi><mi>e</mi><mi>d</mi></mrow><mn>3</mn></msubsup>',
        ),
        # Ex 2.9's anchor loss: named functions are upright and applied (U+2061)
        (
            r'\max(\cos(z, -e_0), 0)',
            f'<mrow><mi>max</mi><mo>\u2061</mo>{OPEN}<mi>cos</mi><mo>\u2061</mo>{OPEN}<mi>z</mi><mo>,</mo>'
            f'<mo>−</mo>{E0}{CLOSE}<mo>,</mo><mn>0</mn>{CLOSE}</mrow>',
        ),
        # Ex 2.11's coverage formula
        (
            'p = 1 - (1 - q)^s',
            f'<mrow><mi>p</mi><mo>=</mo><mn>1</mn><mo>−</mo>{OPEN}<mn>1</mn><mo>−</mo><mi>q</mi>'
            f'<msup>{CLOSE}<mi>s</mi></msup></mrow>',
        ),
        # a single upright letter needs mathvariant (a one-letter <mi> is italic by default)
        (r'\mathrm{d}x', '<mrow><mi mathvariant="normal">d</mi><mi>x</mi></mrow>'),
        # a script on a named function sits on its name, before the application
        (r'\max_x y', '<mrow><msub><mi>max</mi><mi>x</mi></msub><mo>\u2061</mo><mi>y</mi></mrow>'),
        (r'\frac{a}{2}', '<mfrac><mi>a</mi><mn>2</mn></mfrac>'),
        (r'\sqrt{x}', '<msqrt><mi>x</mi></msqrt>'),
        # TeX takes one digit as a script: x^23 is x squared, then a 3
        ('x^23', '<mrow><msup><mi>x</mi><mn>2</mn></msup><mn>3</mn></mrow>'),
        ("f'", '<msup><mi>f</mi><mo>′</mo></msup>'),
        (r'a \le b < c', '<mrow><mi>a</mi><mo>≤</mo><mi>b</mi><mo>&lt;</mo><mi>c</mi></mrow>'),
        (r'\alpha \cdot 0.5', '<mrow><mi>α</mi><mo>⋅</mo><mn>0.5</mn></mrow>'),
        (r'\text{if } x', '<mrow><mtext>if </mtext><mi>x</mi></mrow>'),
        (r'\left( x \right.', '<mrow><mo stretchy="true">(</mo><mi>x</mi></mrow>'),
    ],
)
def test_the_projects_formulas_become_the_mathml_tex_would_typeset(tex, mathml):
    assert body(tex) == mathml


def test_a_formula_keeps_its_tex_as_an_annotation_and_display_math_is_a_block():
    out = tex_to_mathml(' a < b ', display=True)
    assert out.startswith('<math display="block"><semantics>')
    assert out.endswith('<annotation encoding="application/x-tex">a &lt; b</annotation></semantics></math>')


@pytest.mark.parametrize(
    ('tex', 'message'),
    [
        (r'\foo x', r'unknown command \\foo'),
        ('x^', "'\\^' without an argument"),
        ('{x', "a '{' that is never closed"),
        ('x}', "a '}' that closes nothing"),
        ('^2', "'\\^' with nothing before it"),
        ('x^2^3', 'a second superscript'),
        ('x_1_2', 'a second subscript'),
        ('a & b', "'&' \\(alignment"),
        (r'a \\ b', r'unknown command \\\\'),
        (r'\left x', r'\\left followed by .x., which is not a delimiter'),
    ],
)
def test_tex_outside_the_subset_is_an_error_that_names_the_construct_and_the_formula(tex, message):
    with pytest.raises(TexError, match=message) as raised:
        tex_to_mathml(tex)
    assert repr(tex) in str(raised.value)


TOKENS = st.sampled_from(
    ['x', 'y', '1', '2.5', '+', '-', '=', '<', '>', '&lt;', '(', ')', ',', '^', '_', "'", '{', '}', ' ']
    + [r'\alpha', r'\le', r'\max', r'\frac', r'\sqrt', r'\mathrm', r'\,', r'\lVert']
)


@given(st.lists(TOKENS, max_size=12))
def test_any_formula_is_either_refused_or_well_formed_mathml_that_keeps_its_tex(tokens):
    tex = ''.join(tokens)
    try:
        out = tex_to_mathml(tex)
    except TexError:
        return
    math = ET.fromstring(out)  # well-formed: every element closed, every text escaped
    annotation = math.find('./semantics/annotation')
    assert annotation is not None and (annotation.text or '') == tex.strip()
    assert len(math.find('./semantics') or []) == 2, 'one presentation element, then the annotation'
