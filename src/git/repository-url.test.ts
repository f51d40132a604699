import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { SlipwayError } from "../core/errors.ts";
import { assertRepositoryUrl, normalizeRepositoryUrl, redactCredentials, repositoryMatches } from "./repository-url.ts";

describe("repositoryMatches", () => {
  const spellings = [
    "https://github.com/Codertocat/Hello-World",
    "https://github.com/Codertocat/Hello-World.git",
    "https://github.com/codertocat/hello-world/",
    "https://GitHub.com/Codertocat/Hello-World.git/",
    "git@github.com:Codertocat/Hello-World.git",
    "ssh://git@github.com/Codertocat/Hello-World.git",
    "ssh://git@github.com:22/Codertocat/Hello-World",
    "git://github.com/Codertocat/Hello-World.git",
    "https://x-access-token:ghs_secret@github.com/Codertocat/Hello-World.git",
  ];

  it("finds a repository under every spelling a user or a payload may use", () => {
    for (const registered of spellings) {
      for (const pushed of spellings) assert.ok(repositoryMatches(registered, [pushed]), `${registered} vs ${pushed}`);
    }
  });

  it("matches any one of the URLs a payload gives", () => {
    assert.ok(repositoryMatches("http://localhost:3000/gitea/webhooks.git", ["ssh://gitea@localhost:2222/gitea/webhooks.git", "http://localhost:3000/gitea/webhooks"]));
  });

  it("tells different repositories, hosts and owners apart", () => {
    assert.equal(repositoryMatches("https://github.com/acme/shop", ["https://github.com/acme/shop-api"]), false);
    assert.equal(repositoryMatches("https://github.com/acme/shop", ["https://gitlab.com/acme/shop"]), false);
    assert.equal(repositoryMatches("https://github.com/acme/shop", ["https://github.com/other/shop"]), false);
    assert.equal(repositoryMatches("https://github.com/acme/shop", []), false);
  });

  it("treats a local path and its file:// URL as one repository, case kept", () => {
    assert.ok(repositoryMatches("/srv/git/Shop.git", ["file:///srv/git/Shop"]));
    assert.equal(repositoryMatches("/srv/git/Shop.git", ["/srv/git/shop.git"]), false);
  });

  it("returns null for what is not a repository URL", () => {
    assert.equal(normalizeRepositoryUrl("not a url"), null);
    assert.equal(normalizeRepositoryUrl("ext::sh -c evil"), null);
  });
});

describe("redactCredentials", () => {
  it("hides passwords and HTTP tokens but keeps the rest of the text", () => {
    assert.equal(redactCredentials("fatal: unable to access 'https://alice:s3cret@git.example.com/x.git/'"), "fatal: unable to access 'https://***@git.example.com/x.git/'");
    assert.equal(redactCredentials("https://ghp_token@github.com/a/b"), "https://***@github.com/a/b");
    assert.equal(redactCredentials("ssh://git:pw@host/a"), "ssh://git:***@host/a");
    assert.equal(redactCredentials("ssh://git@host/a and git@host:a/b"), "ssh://git@host/a and git@host:a/b");
  });
});

describe("assertRepositoryUrl", () => {
  it("accepts the forms git fetches from", () => {
    for (const url of ["/srv/git/shop.git", "file:///srv/git/shop", "https://github.com/a/b.git", "http://127.0.0.1:8080/a.git", "ssh://git@host:2222/a/b", "git@github.com:a/b.git", "git://host/a"]) {
      assert.doesNotThrow(() => assertRepositoryUrl(url), url);
    }
  });

  it("refuses relative paths, options, command transports and unknown schemes", () => {
    for (const url of ["shop", "./shop", "--upload-pack=touch /tmp/x", "ext::sh -c touch% /tmp/x", "fd::3", "ftp://host/a", "https://", "a b", ""]) {
      assert.throws(() => assertRepositoryUrl(url), (error: unknown) => error instanceof SlipwayError && error.code === "invalid_input", url);
    }
  });
});
