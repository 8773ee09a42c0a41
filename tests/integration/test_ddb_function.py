"""DynamoDB from a function and from the aws cli, as the README's tutorial
does it: a table made from a stack file's "tables" section, a function
behind gateway routes that writes and reads it with boto3 and only the
credentials the node hands its instance (Debian's boto3 1.26, which knows
nothing of OWS), its role allowing exactly the table; the same items seen
by the aws cli (v1 and Debian's 2.9) and by the JavaScript SDK's
DocumentClient (@aws-sdk/lib-dynamodb)."""
import json
import urllib.request

from owstest import aws_cli, check, deploy, js_json, root_creds, started

NOTES = r'''
import json
import boto3
from boto3.dynamodb.conditions import Key

table = boto3.resource("dynamodb").Table("notes")

def handler(event, context):
    user = event["pathParameters"]["user"]
    if event["requestContext"]["http"]["method"] == "POST":
        body = json.loads(event["body"])
        table.put_item(Item={"user": user, "ts": body["ts"], "text": body["text"]})
        return {"statusCode": 201, "body": "stored"}
    items = table.query(KeyConditionExpression=Key("user").eq(user),
                        ScanIndexForward=False)["Items"]
    try:
        boto3.resource("dynamodb").Table("secrets").get_item(Key={"id": "x"})
        other = "allowed"
    except Exception as e:
        other = e.response["Error"]["Code"]
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": json.dumps({"notes": [{"ts": int(i["ts"]), "text": i["text"]}
                                          for i in items], "other": other})}
'''

STACK = {
    "stack": "notes",
    "tables": {"notes": {"partition_key": "user:S", "sort_key": "ts:N"},
               "secrets": {"partition_key": "id:S"}},
    "policies": {"notes-rw": {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:Query"],
         "Resource": "arn:aws:dynamodb:*:*:table/notes"}]}},
    "functions": {"notes": {"runtime": "python3", "handler": "app.handler",
                            "code": "./notes", "policies": ["notes-rw"],
                            "timeout_s": 30}},
    "routes": {"GET /notes/{user}": "notes", "POST /notes/{user}": "notes"},
}


def gw(n, method, path, body=None):
    req = urllib.request.Request("http://%s%s" % (n.gateway, path), method=method,
                                 data=json.dumps(body).encode() if body else None)
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_function_writes_and_reads_a_table_with_its_role():
    n = started()
    deploy(n, STACK, {"notes/app.py": NOTES})
    for ts, text in ((1, "first"), (3, "third"), (2, "second")):
        status, body = gw(n, "POST", "/notes/ann", {"ts": ts, "text": text})
        check(status == 201, (status, body))
    status, body = gw(n, "GET", "/notes/ann")
    check(status == 200, (status, body))
    got = json.loads(body)
    check([x["text"] for x in got["notes"]] == ["third", "second", "first"], got)
    # The role allows the notes table only.
    check(got["other"] == "AccessDeniedException", got)

    # The same items through the aws cli, v1 and Debian's 2.9.
    key = root_creds(n)
    for debian in (False, True):
        p = aws_cli(n, key, "dynamodb", "query", "--table-name", "notes",
                    "--key-condition-expression", "#u = :u",
                    "--expression-attribute-names", '{"#u": "user"}',
                    "--expression-attribute-values", '{":u": {"S": "ann"}}',
                    "--output", "json", debian=debian)
        check(p.returncode == 0, p.stderr)
        items = json.loads(p.stdout)["Items"]
        check([i["ts"]["N"] for i in items] == ["1", "2", "3"], items)
    p = aws_cli(n, key, "dynamodb", "put-item", "--table-name", "notes",
                "--item", '{"user": {"S": "bob"}, "ts": {"N": "7"}, "text": {"S": "cli"}}')
    check(p.returncode == 0, p.stderr)
    status, body = gw(n, "GET", "/notes/bob")
    check(json.loads(body)["notes"] == [{"ts": 7, "text": "cli"}], body)

    # And the JavaScript SDK's DocumentClient.
    got = js_json(n, key, r'''
const { DynamoDBClient } = require("@aws-sdk/client-dynamodb");
const { DynamoDBDocumentClient, QueryCommand, PutCommand } = require("@aws-sdk/lib-dynamodb");
const doc = DynamoDBDocumentClient.from(new DynamoDBClient({}));
(async () => {
await doc.send(new PutCommand({TableName: "notes", Item: {user: "cy", ts: 5, text: "js"}}));
const r = await doc.send(new QueryCommand({TableName: "notes",
    KeyConditionExpression: "#u = :u", ExpressionAttributeNames: {"#u": "user"},
    ExpressionAttributeValues: {":u": "cy"}}));
console.log(JSON.stringify(r.Items));
})().catch((e) => { console.error(e); process.exit(1); });
''')
    check(got == [{"user": "cy", "ts": 5, "text": "js"}], got)
