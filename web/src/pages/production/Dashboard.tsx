// PLACEHOLDER page: production/Dashboard
import { Card } from "../../ui";

export default function Dashboard() {
  return <Card><h1>Dashboard</h1></Card>;
}
