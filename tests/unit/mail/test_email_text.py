"""The plain-text part of an email, made from its HTML."""

from __future__ import annotations

from app.mail.text import html_to_text

HTML = """<!DOCTYPE html><html lang="en"><head><title>Subject</title></head><body>
<p>Hello,</p>
<p>Someone asked to reset the password of the account <strong>alice@example.com</strong>.
   To choose a new password, open this link within 1 hour:</p>
<p><a href="https://x.test/account/reset_password/abc">https://x.test/account/reset_password/abc</a></p>
<table><tr><th>When</th><td>Jan 15, 2026</td></tr>
<tr><th>Address</th><td>203.0.113.7</td></tr></table>
<ul><li>one</li><li>two</li></ul>
<p><a href="https://x.test/account/sessions">See the devices signed in</a></p>
<p style="font-size: small">https://x.test/account/sessions</p>
</body></html>"""


def test_the_text_part_keeps_the_words_the_links_and_the_order():
    text = html_to_text(HTML)
    assert text.startswith("Hello,\n\nSomeone asked to reset the password of the account ")
    assert "alice@example.com. To choose a new password, open this link within 1 hour:" in text
    lines = text.splitlines()
    assert "https://x.test/account/reset_password/abc" in lines
    assert "When: Jan 15, 2026" in lines and "Address: 203.0.113.7" in lines
    assert "- one" in lines and "- two" in lines
    assert "See the devices signed in:" in lines
    # An address written out after its link is not repeated.
    assert lines.count("https://x.test/account/sessions") == 1
    assert "Subject" not in text and "<" not in text
    assert "\n\n\n" not in text


def test_character_references_become_the_characters_they_stand_for():
    text = html_to_text("<p>l&#39;adresse &lt;alice@example.com&gt; &amp; l&rsquo;appareil</p>")
    assert text == "l'adresse <alice@example.com> & l\u2019appareil\n"


def test_styles_and_scripts_in_the_body_are_left_out_and_the_rest_is_kept():
    html = (
        "<html><head><style>p { color: red }</style><title>Subject</title></head><body>"
        "<style>.small { font-size: 80% }</style><p>Hello,</p>"
        "<script>track()</script><p>Goodbye.</p></body></html>"
    )
    assert html_to_text(html) == "Hello,\n\nGoodbye.\n"


def test_the_cells_of_a_row_are_separated_and_each_heading_ends_with_the_colon():
    html = (
        "<table><tr><th>When</th><th>Where</th></tr>"
        "<tr><td>Jan 15, 2026</td><td>Paris</td></tr></table>"
    )
    assert html_to_text(html, colon=" :") == "When : Where :\nJan 15, 2026 Paris\n"


def test_a_link_with_markup_inside_keeps_its_whole_text_before_its_address():
    html = '<p><a href="https://x.test/reset">Choose <strong>a new</strong> password</a></p>'
    assert html_to_text(html) == "Choose a new password:\nhttps://x.test/reset\n"


def test_a_link_with_no_text_is_written_as_its_address_alone():
    html = '<p>Open:</p><p><a href="https://x.test/reset"><img src="button.png"></a></p>'
    assert html_to_text(html) == "Open:\n\nhttps://x.test/reset\n"
