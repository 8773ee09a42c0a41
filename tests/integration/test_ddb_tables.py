"""DynamoDB's tables on a real node with real clients: CreateTable with
local and global indexes, DescribeTable's fields, ListTables' pages,
UpdateTable adding and removing a global index, TTL, tags by arn:aws and
arn:ows ARNs, DeleteTable; DynamoDB's codes and messages for bad schemas;
boto3 1.43 and Debian's 1.26, the aws cli v1 and Debian's 2.9; and a
stack file's "tables" section through `ows apply` (create, change,
refused key change, delete)."""
import json
import subprocess

from owstest import (PYTHON_DEBIAN, aws_cli, aws_env, boto3_client, check,
                     deploy, root_creds, started)


def client_error(fn, **kw):
    """(code, message) of the ClientError fn(**kw) raises, or None."""
    import botocore.exceptions
    try:
        fn(**kw)
    except botocore.exceptions.ClientError as e:
        return e.response["Error"].get("Code"), e.response["Error"].get("Message")
    return None


def users_table(ddb, name="users", **extra):
    return ddb.create_table(
        TableName=name,
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"},
                              {"AttributeName": "ts", "AttributeType": "N"},
                              {"AttributeName": "email", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"},
                   {"AttributeName": "ts", "KeyType": "RANGE"}],
        LocalSecondaryIndexes=[{
            "IndexName": "by-id-email",
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"},
                          {"AttributeName": "email", "KeyType": "RANGE"}],
            "Projection": {"ProjectionType": "KEYS_ONLY"}}],
        GlobalSecondaryIndexes=[{
            "IndexName": "by-email",
            "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]}}],
        BillingMode="PAY_PER_REQUEST", **extra)


def test_ddb_tables_lifecycle_with_boto3():
    n = started()
    ddb = boto3_client(n, "dynamodb")
    d = users_table(ddb, Tags=[{"Key": "team", "Value": "core"}])["TableDescription"]
    check(d["TableName"] == "users" and d["TableStatus"] == "ACTIVE", d)
    check(d["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"},
                             {"AttributeName": "ts", "KeyType": "RANGE"}], d)
    check(sorted(a["AttributeName"] for a in d["AttributeDefinitions"]) == ["email", "id", "ts"], d)
    check(d["TableArn"].startswith("arn:aws:dynamodb:") and d["TableArn"].endswith(":table/users"), d)
    check(d["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST", d)
    check(d["ItemCount"] == 0 and d["TableSizeBytes"] == 0 and len(d["TableId"]) == 36, d)
    gsi, lsi = d["GlobalSecondaryIndexes"][0], d["LocalSecondaryIndexes"][0]
    check(gsi["IndexName"] == "by-email" and gsi["IndexStatus"] == "ACTIVE" and
          gsi["Projection"] == {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["name"]} and
          gsi["IndexArn"] == d["TableArn"] + "/index/by-email", gsi)
    check(lsi["IndexName"] == "by-id-email" and lsi["Projection"]["ProjectionType"] == "KEYS_ONLY", lsi)

    t = ddb.describe_table(TableName="users")["Table"]
    check(t["TableId"] == d["TableId"] and t["CreationDateTime"] == d["CreationDateTime"], t)
    check(client_error(users_table, ddb=ddb) == ("ResourceInUseException", "Table already exists: users"))
    check(client_error(ddb.describe_table, TableName="nope") ==
          ("ResourceNotFoundException", "Requested resource not found: Table: nope not found"))

    # ListTables in pages of 2
    for name in ("b-table", "a-table"):
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "B"}],
                         KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}])
    p1 = ddb.list_tables(Limit=2)
    check(p1["TableNames"] == ["a-table", "b-table"] and p1["LastEvaluatedTableName"] == "b-table", p1)
    p2 = ddb.list_tables(Limit=2, ExclusiveStartTableName="b-table")
    check(p2["TableNames"] == ["users"] and "LastEvaluatedTableName" not in p2, p2)
    names = [x for page in ddb.get_paginator("list_tables").paginate(PaginationConfig={"PageSize": 1})
             for x in page["TableNames"]]
    check(names == ["a-table", "b-table", "users"], names)

    # UpdateTable: a GSI added, then removed
    u = ddb.update_table(TableName="users",
                         AttributeDefinitions=[{"AttributeName": "ts", "AttributeType": "N"}],
                         GlobalSecondaryIndexUpdates=[{"Create": {
                             "IndexName": "by-ts", "KeySchema": [{"AttributeName": "ts", "KeyType": "HASH"}],
                             "Projection": {"ProjectionType": "ALL"}}}])["TableDescription"]
    check(sorted(g["IndexName"] for g in u["GlobalSecondaryIndexes"]) == ["by-email", "by-ts"], u)
    check(client_error(ddb.update_table, TableName="users",
                       AttributeDefinitions=[{"AttributeName": "ts", "AttributeType": "N"}],
                       GlobalSecondaryIndexUpdates=[{"Create": {
                           "IndexName": "by-ts", "KeySchema": [{"AttributeName": "ts", "KeyType": "HASH"}],
                           "Projection": {"ProjectionType": "ALL"}}}]) ==
          ("ValidationException", "Attempting to create an index which already exists"))
    u = ddb.update_table(TableName="users", GlobalSecondaryIndexUpdates=[
        {"Delete": {"IndexName": "by-email"}}])["TableDescription"]
    check([g["IndexName"] for g in u["GlobalSecondaryIndexes"]] == ["by-ts"], u)

    # TTL
    check(ddb.describe_time_to_live(TableName="users")["TimeToLiveDescription"] ==
          {"TimeToLiveStatus": "DISABLED"})
    r = ddb.update_time_to_live(TableName="users", TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires"})
    check(r["TimeToLiveSpecification"] == {"Enabled": True, "AttributeName": "expires"}, r)
    check(ddb.describe_time_to_live(TableName="users")["TimeToLiveDescription"] ==
          {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
    check(client_error(ddb.update_time_to_live, TableName="users", TimeToLiveSpecification={
        "Enabled": True, "AttributeName": "expires"}) ==
          ("ValidationException", "TimeToLive is already enabled"))
    ddb.update_time_to_live(TableName="users", TimeToLiveSpecification={
        "Enabled": False, "AttributeName": "expires"})
    check(ddb.describe_time_to_live(TableName="users")["TimeToLiveDescription"]["TimeToLiveStatus"] ==
          "DISABLED")

    # tags, by either partition's ARN
    arn = d["TableArn"]
    ows_arn = arn.replace("arn:aws:", "arn:ows:", 1)
    check(ddb.list_tags_of_resource(ResourceArn=arn)["Tags"] == [{"Key": "team", "Value": "core"}])
    ddb.tag_resource(ResourceArn=ows_arn, Tags=[{"Key": "env", "Value": "dev"}])
    tags = sorted((t["Key"], t["Value"]) for t in ddb.list_tags_of_resource(ResourceArn=arn)["Tags"])
    check(tags == [("env", "dev"), ("team", "core")], tags)
    ddb.untag_resource(ResourceArn=arn, TagKeys=["team"])
    check(ddb.list_tags_of_resource(ResourceArn=ows_arn)["Tags"] == [{"Key": "env", "Value": "dev"}])
    check(client_error(ddb.list_tags_of_resource, ResourceArn=arn.replace("users", "ghost"))[0] ==
          "ResourceNotFoundException")

    lim = ddb.describe_limits()
    check(lim["TableMaxReadCapacityUnits"] == 40000, lim)
    ep = ddb.describe_endpoints()["Endpoints"]
    check(ep == [{"Address": n.edge, "CachePeriodInMinutes": 1440}], ep)

    g = ddb.delete_table(TableName="users")["TableDescription"]
    check(g["TableStatus"] == "DELETING" and g["TableName"] == "users", g)
    check(client_error(ddb.delete_table, TableName="users") ==
          ("ResourceNotFoundException", "Requested resource not found: Table: users not found"))
    check(ddb.list_tables()["TableNames"] == ["a-table", "b-table"])
    # the same name again is a new table
    d2 = users_table(ddb)["TableDescription"]
    check(d2["TableId"] != d["TableId"], d2)


BAD = [
    ({"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "x", "KeyType": "HASH"}]},
     "One or more parameter values were invalid: Some index key attributes are not defined in "
     "AttributeDefinitions. Keys: [x], AttributeDefinitions: [id]"),
    ({"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                               {"AttributeName": "extra", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}]},
     "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly "
     "match number of attributes defined in AttributeDefinitions"),
    ({"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "id", "KeyType": "RANGE"}]},
     "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"),
    ({"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"},
                    {"AttributeName": "id", "KeyType": "RANGE"}]},
     "Both the Hash Key and the Range Key element in the KeySchema have the same name"),
    ({"AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"},
                               {"AttributeName": "e", "AttributeType": "S"}],
      "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
      "LocalSecondaryIndexes": [{"IndexName": "lsi", "Projection": {"ProjectionType": "ALL"},
                                 "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"},
                                               {"AttributeName": "e", "KeyType": "RANGE"}]}]},
     "One or more parameter values were invalid: Table KeySchema does not have a range key, which "
     "is required when specifying a LocalSecondaryIndex"),
]


def test_ddb_tables_bad_schemas_get_dynamodbs_messages():
    n = started()
    ddb = boto3_client(n, "dynamodb")
    for kw, msg in BAD:
        e = client_error(ddb.create_table, TableName="bad", BillingMode="PAY_PER_REQUEST", **kw)
        check(e == ("ValidationException", msg), (kw, e))
    e = client_error(ddb.create_table, TableName="bad",
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    check(e == ("ValidationException", "No provisioned throughput specified for the table"), e)
    e = client_error(ddb.create_table, TableName="bad", BillingMode="PAY_PER_REQUEST",
                     ProvisionedThroughput={"ReadCapacityUnits": 1, "WriteCapacityUnits": 1},
                     AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                     KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
    check(e == ("ValidationException", "One or more parameter values were invalid: Neither "
                "ReadCapacityUnits nor WriteCapacityUnits can be specified when BillingMode is "
                "PAY_PER_REQUEST"), e)
    e = client_error(ddb.describe_table, TableName="a b")
    check(e[0] == "ValidationException" and "regular expression pattern: [a-zA-Z0-9_.-]+" in e[1], e)
    # nothing was made
    check(ddb.list_tables()["TableNames"] == [])
    # a provisioned table echoes its throughput
    t = ddb.create_table(TableName="prov", AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "N"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
                         ProvisionedThroughput={"ReadCapacityUnits": 5, "WriteCapacityUnits": 7})
    pt = t["TableDescription"]["ProvisionedThroughput"]
    check(pt["ReadCapacityUnits"] == 5 and pt["WriteCapacityUnits"] == 7, pt)
    check(t["TableDescription"]["BillingModeSummary"]["BillingMode"] == "PROVISIONED", t)
    u = ddb.update_table(TableName="prov", BillingMode="PAY_PER_REQUEST")["TableDescription"]
    check(u["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST" and
          u["ProvisionedThroughput"]["ReadCapacityUnits"] == 0, u)


def test_ddb_tables_with_the_aws_clis():
    n = started()
    for debian, name in ((False, "cli-v1"), (True, "cli-deb")):
        p = aws_cli(n, None, "--output", "json", "dynamodb", "create-table", "--table-name", name,
                    "--attribute-definitions", "AttributeName=id,AttributeType=S",
                    "--key-schema", "AttributeName=id,KeyType=HASH",
                    "--billing-mode", "PAY_PER_REQUEST", debian=debian)
        check(p.returncode == 0, p.stderr)
        check(json.loads(p.stdout)["TableDescription"]["TableName"] == name, p.stdout)
        p = aws_cli(n, None, "--output", "json", "dynamodb", "describe-table", "--table-name", name,
                    debian=debian)
        check(p.returncode == 0 and json.loads(p.stdout)["Table"]["TableStatus"] == "ACTIVE", p.stderr)
        p = aws_cli(n, None, "dynamodb", "wait", "table-exists", "--table-name", name, debian=debian)
        check(p.returncode == 0, p.stderr)
    p = aws_cli(n, None, "--output", "json", "dynamodb", "list-tables", debian=True)
    check(json.loads(p.stdout)["TableNames"] == ["cli-deb", "cli-v1"], p.stdout)
    p = aws_cli(n, None, "dynamodb", "describe-table", "--table-name", "missing")
    check(p.returncode != 0 and "ResourceNotFoundException" in p.stderr, p.stderr)
    p = aws_cli(n, None, "dynamodb", "delete-table", "--table-name", "cli-v1", debian=True)
    check(p.returncode == 0, p.stderr)
    p = aws_cli(n, None, "dynamodb", "wait", "table-not-exists", "--table-name", "cli-v1")
    check(p.returncode == 0, p.stderr)


OLD_BOTO = r'''
import json, sys, boto3
ddb = boto3.resource("dynamodb", endpoint_url=sys.argv[1], region_name="us-east-1",
                     aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
t = ddb.create_table(TableName="old", BillingMode="PAY_PER_REQUEST",
                     AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"},
                                           {"AttributeName": "sk", "AttributeType": "N"}],
                     KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"},
                                {"AttributeName": "sk", "KeyType": "RANGE"}])
t.wait_until_exists()
t.reload()
print(json.dumps({"version": boto3.__version__, "status": t.table_status,
                  "keys": t.key_schema, "tables": [x.name for x in ddb.tables.all()]}))
'''


def test_ddb_tables_with_debian_boto3_resource_api():
    n = started()
    kid, secret = root_creds(n)[:2]
    p = subprocess.run([PYTHON_DEBIAN, "-c", OLD_BOTO, "http://" + n.edge, kid, secret],
                       capture_output=True, text=True, timeout=60, env=aws_env(n))
    check(p.returncode == 0, p.stderr)
    r = json.loads(p.stdout)
    check(r["version"].startswith("1.26") and r["status"] == "ACTIVE" and r["tables"] == ["old"], r)
    check(r["keys"] == [{"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"}], r)


def test_ddb_tables_from_a_stack_file():
    n = started()
    ddb = boto3_client(n, "dynamodb")
    stack = {"stack": "app", "tables": {"users": {
        "partition_key": "id:S", "sort_key": "ts:N",
        "indexes": {"by-email": {"partition_key": "email:S", "projection": "ALL"},
                    "local-name": {"partition_key": "id:S", "sort_key": "name:S",
                                   "projection": ["email"], "local": True}},
        "ttl_attribute": "expires", "tags": {"owner": "app"}}}}
    p = deploy(n, stack)
    check("+ tables 'users'" in p.stdout, p.stdout)
    t = ddb.describe_table(TableName="users")["Table"]
    check([g["IndexName"] for g in t["GlobalSecondaryIndexes"]] == ["by-email"], t)
    check(t["LocalSecondaryIndexes"][0]["Projection"] ==
          {"ProjectionType": "INCLUDE", "NonKeyAttributes": ["email"]}, t)
    check(ddb.describe_time_to_live(TableName="users")["TimeToLiveDescription"] ==
          {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"})
    check(ddb.list_tags_of_resource(ResourceArn=t["TableArn"])["Tags"] == [{"Key": "owner", "Value": "app"}])
    # applying it again changes nothing
    p = deploy(n, stack)
    check("nothing to do" in p.stdout, p.stdout)
    # a change: one GSI for another, TTL off
    spec = stack["tables"]["users"]
    del spec["indexes"]["by-email"]
    del spec["ttl_attribute"]
    spec["indexes"]["by-ts"] = {"partition_key": "ts:N", "projection": "KEYS_ONLY"}
    p = deploy(n, stack)
    check("~ tables 'users'" in p.stdout, p.stdout)
    t2 = ddb.describe_table(TableName="users")["Table"]
    check([g["IndexName"] for g in t2["GlobalSecondaryIndexes"]] == ["by-ts"] and
          t2["TableId"] == t["TableId"], t2)
    check(ddb.describe_time_to_live(TableName="users")["TimeToLiveDescription"]["TimeToLiveStatus"] ==
          "DISABLED")
    # the key schema never changes
    spec["sort_key"] = "at:N"
    p = deploy(n, stack, check_rc=False)
    check(p.returncode != 0 and "key schema cannot change" in p.stdout + p.stderr, p.stdout + p.stderr)
    spec["sort_key"] = "ts:N"
    # a bad spec is refused by ows before anything is sent
    bad = {"stack": "app", "tables": {"x!": {"partition_key": "id:S"}}}
    p = deploy(n, bad, check_rc=False)
    check(p.returncode != 0 and "InvalidAction" in p.stdout + p.stderr, p.stdout + p.stderr)
    # DeleteTable through the API leaves a stack's table alone
    e = client_error(ddb.delete_table, TableName="users")
    check(e[0] == "ResourceInUseException" and "stack 'app'" in e[1], e)
    # removed from the stack: deleted (it holds no items)
    p = deploy(n, {"stack": "app"})
    check("- tables 'users'" in p.stdout, p.stdout)
    check(client_error(ddb.describe_table, TableName="users")[0] == "ResourceNotFoundException")


def test_a_table_made_again_with_another_key_schema_is_the_new_one_at_once():
    """Writes and reads just before and just after a table is deleted and
    made again with another key schema (nodes keep tables loaded between
    requests, per ledger height): through the API, then through `ows
    apply`, each write right after the change that made the table."""
    n = started()
    ddb = boto3_client(n, "dynamodb")

    def make(name, attr, typ):
        ddb.create_table(TableName=name, BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": attr, "AttributeType": typ}],
                         KeySchema=[{"AttributeName": attr, "KeyType": "HASH"}])

    make("again", "id", "S")
    ddb.put_item(TableName="again", Item={"id": {"S": "a"}, "v": {"N": "1"}})
    check(ddb.get_item(TableName="again", Key={"id": {"S": "a"}})["Item"]["v"] == {"N": "1"})
    for attr, typ, value in (("k", "N", "7"), ("b", "B", b"\x01"), ("id", "N", "3")):
        ddb.delete_table(TableName="again")
        make("again", attr, typ)
        ddb.put_item(TableName="again", Item={attr: {typ: value}, "v": {"S": attr}})
        got = ddb.get_item(TableName="again", Key={attr: {typ: value}}, ConsistentRead=True)
        check(got["Item"]["v"] == {"S": attr}, got)
        # the old schema's item is refused with the new schema's message
        e = client_error(ddb.put_item, TableName="again", Item={"id": {"S": "a"}})
        check(e is not None and e[0] == "ValidationException", e)
        check(ddb.scan(TableName="again")["Count"] == 1)
    # through a stack file: deleted (forced: it holds items), then made
    # again with another key, and written at once
    stack = {"stack": "st", "tables": {"st-table": {"partition_key": "id:S",
                                                    "force_delete": True}}}
    deploy(n, stack)
    ddb.put_item(TableName="st-table", Item={"id": {"S": "x"}})
    deploy(n, {"stack": "st"})
    stack["tables"]["st-table"] = {"partition_key": "n:N", "sort_key": "s:S"}
    deploy(n, stack)
    ddb.put_item(TableName="st-table", Item={"n": {"N": "1"}, "s": {"S": "one"}})
    e = client_error(ddb.put_item, TableName="st-table", Item={"id": {"S": "x"}})
    check(e is not None and e[0] == "ValidationException" and "Missing the key n" in e[1], e)
    items = ddb.scan(TableName="st-table")["Items"]
    check(items == [{"n": {"N": "1"}, "s": {"S": "one"}}], items)
