"""The review console: a page, a script and a style sheet served by Seawall itself (no front-end
build). It holds no data; everything comes from the review API with the person's session."""
