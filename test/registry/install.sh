#!/usr/bin/env bash
# Builds the real schema registry the codecs tests run against: Apicurio Registry (its
# Confluent-compatible API) as one runnable jar, from Maven Central, with the machine's JDK 17+ and
# Maven. Idempotent: does nothing when the jar for this pom is already built. No stdin needed.
#
#   test/registry/install.sh            # build once, into $SNOOPY_REGISTRY_HOME
#
# SNOOPY_REGISTRY_HOME defaults to ~/.cache/snoopy/apicurio-registry-2.4.2; test/registry/registry.ts
# reads the same variable.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
version=2.4.2.Final
home="${SNOOPY_REGISTRY_HOME:-$HOME/.cache/snoopy/apicurio-registry-2.4.2}"
jar="$home/apicurio-registry.jar"
stamp="$home/apicurio-registry.stamp"
want="$(cat "$here/apicurio/pom.xml" "$here/apicurio/index-dependencies.properties" | sha256sum | cut -d' ' -f1)"

if [[ -f "$jar" && -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  echo "schema registry: $jar is up to date"
  exit 0
fi

for tool in java mvn; do
  command -v "$tool" >/dev/null || { echo "schema registry: $tool is required (JDK 17+ and Maven)" >&2; exit 1; }
done

build="$home/build"
rm -rf "$build"
mkdir -p "$build/src/main/resources" "$build/app"
cp "$here/apicurio/pom.xml" "$build/pom.xml"
mvn=(mvn -B -q -s "$here/apicurio/settings.xml" -f "$build/pom.xml")

echo "schema registry: building Apicurio Registry $version into $home (a few minutes the first time)"
# The application's own configuration lives in its jar; the rebuilt jar needs it at its root.
"${mvn[@]}" org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy \
  -Dartifact="io.apicurio:apicurio-registry-app:$version" -DoutputDirectory="$build/app"
(cd "$build/app" && jar xf "apicurio-registry-app-$version.jar" application.properties)
cat "$build/app/application.properties" "$here/apicurio/index-dependencies.properties" > "$build/src/main/resources/application.properties"

"${mvn[@]}" package -DskipTests -Dquarkus.package.type=uber-jar
mv "$build"/target/snoopy-test-registry-*-runner.jar "$jar.tmp"
mv "$jar.tmp" "$jar"
echo "$want" > "$stamp"
rm -rf "$build"
echo "schema registry: built $jar"
