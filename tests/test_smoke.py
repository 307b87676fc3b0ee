from townsquare.publish.publisher import Publisher


def test_comment_reaches_the_built_page(post_comment, built: Publisher) -> None:
    response = post_comment(body="Smoke **test**")
    assert response.status_code == 201
    report = built.publish()
    assert not report.full_build
    page = (built.output_dir / "topics" / "bike-lanes" / "index.html").read_text()
    assert "Smoke <strong>test</strong>" in page
